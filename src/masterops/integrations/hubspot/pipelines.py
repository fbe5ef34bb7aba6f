"""Pipelines and their stages (``/crm/v3/pipelines/{type}``): deals (and tickets) move
through a pipeline's stages. Listing, reading, creating, changing and archiving both.

Stage metadata is text, as HubSpot sends it: a deal stage has ``probability``
(``"0.0"`` to ``"1.0"``) and ``isClosed`` (``"true"``/``"false"``). An unknown pipeline or
stage is ``NOT_FOUND``; a label already used by another pipeline is ``CONFLICT``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from masterops.integrations.hubspot.core import HubSpotCore, patch_body
from masterops.integrations.hubspot.models import Model

PIPELINES = "/crm/v3/pipelines/{type}"
PIPELINE = PIPELINES + "/{pipeline_id}"
STAGES = PIPELINE + "/stages"
STAGE = STAGES + "/{stage_id}"


def _metadata_text(value: Any) -> Any:
    # HubSpot documents string values; a number or boolean here is kept, as text.
    if not isinstance(value, Mapping):
        return value
    return {
        str(k): str(v).lower() if isinstance(v, bool) else v if isinstance(v, str) else str(v)
        for k, v in value.items()
    }


class PipelineStage(Model):
    id: str
    label: str
    display_order: int = Field(default=0, alias="displayOrder")
    metadata: dict[str, str] = Field(default_factory=dict)
    archived: bool = False
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")

    @field_validator("metadata", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return _metadata_text(value)

    @property
    def is_closed(self) -> bool:
        return self.metadata.get("isClosed") == "true"


class Pipeline(Model):
    id: str
    label: str
    display_order: int = Field(default=0, alias="displayOrder")
    stages: list[PipelineStage] = Field(default_factory=list)
    archived: bool = False
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")

    def stage(self, stage_id: str) -> PipelineStage | None:
        return next((s for s in self.stages if s.id == stage_id), None)


@dataclass(frozen=True, slots=True)
class NewStage:
    """A stage to create; a deal stage needs ``{"probability": "0.0".."1.0"}`` metadata."""

    label: str
    display_order: int
    metadata: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "displayOrder": self.display_order,
            "metadata": dict(self.metadata),
        }


def _ids(object_type: str, pipeline_id: str, stage_id: str | None = None) -> dict[str, str]:
    ids = {"type": object_type, "pipeline_id": pipeline_id}
    if stage_id is not None:
        ids["stage_id"] = stage_id
    return ids


class PipelineOperations(HubSpotCore):
    async def list_pipelines(self, object_type: str) -> list[Pipeline]:
        """The live pipelines of ``object_type``, each with its live stages."""
        return await self._call_list(
            Pipeline,
            "GET",
            PIPELINES,
            path_params={"type": object_type},
            operation="list_pipelines",
        )

    async def get_pipeline(self, object_type: str, pipeline_id: str) -> Pipeline:
        """One pipeline with its stages; ``NOT_FOUND`` when there is none (or it is archived)."""
        return await self._call_model(
            Pipeline,
            "GET",
            PIPELINE,
            path_params=_ids(object_type, pipeline_id),
            operation="get_pipeline",
        )

    async def create_pipeline(
        self,
        object_type: str,
        label: str,
        stages: Sequence[NewStage],
        *,
        display_order: int = 0,
    ) -> Pipeline:
        """A new pipeline with ``stages`` (at least one). Not repeated once sent: a repeat
        would meet the label it took (``CONFLICT``)."""
        payload = {
            "label": label,
            "displayOrder": display_order,
            "stages": [s.to_json() for s in stages],
        }
        return await self._call_model(
            Pipeline,
            "POST",
            PIPELINES,
            path_params={"type": object_type},
            json=payload,
            operation="create_pipeline",
            idempotent=False,
        )

    async def update_pipeline(
        self,
        object_type: str,
        pipeline_id: str,
        *,
        label: str | None = None,
        display_order: int | None = None,
        archived: bool | None = None,
    ) -> Pipeline:
        """Change a pipeline's label or order; ``archived=False`` restores an archived one."""
        return await self._call_model(
            Pipeline,
            "PATCH",
            PIPELINE,
            path_params=_ids(object_type, pipeline_id),
            json=patch_body(label=label, displayOrder=display_order, archived=archived),
            operation="update_pipeline",
            idempotent=True,  # setting the same values again changes nothing
        )

    async def archive_pipeline(self, object_type: str, pipeline_id: str) -> None:
        """Archive a pipeline (204). The account's last pipeline cannot be (``VALIDATION``)."""
        await self.request(
            "DELETE",
            PIPELINE,
            path_params=_ids(object_type, pipeline_id),
            operation="archive_pipeline",
        )

    async def list_stages(self, object_type: str, pipeline_id: str) -> list[PipelineStage]:
        """The live stages of a pipeline, in display order."""
        return await self._call_list(
            PipelineStage,
            "GET",
            STAGES,
            path_params=_ids(object_type, pipeline_id),
            operation="list_stages",
        )

    async def get_stage(self, object_type: str, pipeline_id: str, stage_id: str) -> PipelineStage:
        """One stage; ``NOT_FOUND`` when the pipeline or the stage is not there."""
        return await self._call_model(
            PipelineStage,
            "GET",
            STAGE,
            path_params=_ids(object_type, pipeline_id, stage_id),
            operation="get_stage",
        )

    async def create_stage(
        self, object_type: str, pipeline_id: str, stage: NewStage
    ) -> PipelineStage:
        """Add a stage to a pipeline. Not repeated once sent: a repeat would add it twice."""
        return await self._call_model(
            PipelineStage,
            "POST",
            STAGES,
            path_params=_ids(object_type, pipeline_id),
            json=stage.to_json(),
            operation="create_stage",
            idempotent=False,
        )

    async def update_stage(
        self,
        object_type: str,
        pipeline_id: str,
        stage_id: str,
        *,
        label: str | None = None,
        display_order: int | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> PipelineStage:
        """Change a stage's label, order or metadata (only what is given is sent)."""
        payload = patch_body(
            label=label,
            displayOrder=display_order,
            metadata=dict(metadata) if metadata is not None else None,
        )
        return await self._call_model(
            PipelineStage,
            "PATCH",
            STAGE,
            path_params=_ids(object_type, pipeline_id, stage_id),
            json=payload,
            operation="update_stage",
            idempotent=True,
        )

    async def archive_stage(self, object_type: str, pipeline_id: str, stage_id: str) -> None:
        """Archive a stage (204); a pipeline keeps at least one (``VALIDATION``)."""
        await self.request(
            "DELETE",
            STAGE,
            path_params=_ids(object_type, pipeline_id, stage_id),
            operation="archive_stage",
        )
