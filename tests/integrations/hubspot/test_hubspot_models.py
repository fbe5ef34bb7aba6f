"""A record's values as HubSpot's text: numbers and booleans a portal sends unquoted are
kept as text, an id sent as a number too; a value no text stands for is refused, naming
the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from masterops.integrations.hubspot import CrmObject


def test_numbers_and_booleans_become_text() -> None:
    record = CrmObject.model_validate(
        {
            "id": 501,
            "properties": {"price": 12.5, "qty": 3, "taxable": True, "note": None, "sku": "A"},
        }
    )
    assert record.id == "501"
    assert record.properties == {
        "price": "12.5",
        "qty": "3",
        "taxable": "true",
        "note": None,
        "sku": "A",
    }


def test_a_value_that_is_no_text_is_refused_by_name() -> None:
    with pytest.raises(ValidationError) as caught:
        CrmObject.model_validate({"id": "1", "properties": {"tags": ["a"]}})
    assert caught.value.errors()[0]["loc"] == ("properties", "tags")
