"""The answer models of the schema families read what HubSpot documents as text even when
an answer carries a number or a boolean (as some v3/v4 answers do for ids)."""

from __future__ import annotations

from masterops.integrations.hubspot import Owner, PipelineStage, V3Associated


def test_numeric_ids_are_kept_as_text() -> None:
    assert Owner.model_validate({"id": 41_000_017, "userId": 7}).id == "41000017"
    assert V3Associated.model_validate({"id": 901, "type": "contact_to_company"}).id == "901"


def test_stage_metadata_is_text() -> None:
    stage = PipelineStage.model_validate(
        {"id": "1", "label": "Won", "metadata": {"probability": 1.0, "isClosed": True}}
    )
    assert stage.metadata == {"probability": "1.0", "isClosed": "true"}
    assert stage.is_closed
