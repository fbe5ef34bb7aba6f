"""Deal pipelines and their stages, as ``/crm/v3/pipelines/deals`` serves them.

Every portal starts with HubSpot's default sales pipeline (id ``default``) and its
seven stages (``appointmentscheduled`` ... ``closedwon``/``closedlost``), the stage
ids the orders sync writes. Stage metadata is strings, as HubSpot sends it:
``{"isClosed": "false", "probability": "0.2"}``. A deal's ``pipeline`` and
``dealstage`` accept exactly the live pipelines' and stages' ids: the portal
refreshes those properties' options after every change here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from masterops_sandbox.hubspot.errors import HubSpotError, validation_error
from masterops_sandbox.hubspot.values import iso_ms

DEFAULT_PIPELINE = "default"
# (id, label, probability, closed): HubSpot's default sales pipeline.
_DEFAULT_STAGES: tuple[tuple[str, str, str, bool], ...] = (
    ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
    ("presentationscheduled", "Presentation Scheduled", "0.6", False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
    ("contractsent", "Contract Sent", "0.9", False),
    ("closedwon", "Closed Won", "1.0", True),
    ("closedlost", "Closed Lost", "0.0", True),
)
MAX_STAGES = 100  # per pipeline, as HubSpot documents
MAX_LABEL = 36  # a pipeline label's documented length limit
_LABEL_RE = re.compile(r"\S")


@dataclass
class Stage:
    id: str
    label: str
    display_order: int
    metadata: dict[str, str]
    created_ms: int
    updated_ms: int
    archived: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "displayOrder": self.display_order,
            "metadata": dict(self.metadata),
            "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.updated_ms),
            "archived": self.archived,
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        }


@dataclass
class Pipeline:
    id: str
    label: str
    display_order: int
    created_ms: int
    updated_ms: int
    stages: list[Stage] = field(default_factory=list)
    archived: bool = False

    def live_stages(self) -> list[Stage]:
        return sorted((s for s in self.stages if not s.archived), key=lambda s: s.display_order)

    def stage(self, stage_id: str) -> Stage:
        for stage in self.stages:
            if stage.id == stage_id and not stage.archived:
                return stage
        raise HubSpotError(
            404,
            "OBJECT_NOT_FOUND",
            f"Unable to find stage {stage_id} in pipeline {self.id}",
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "displayOrder": self.display_order,
            "stages": [s.to_json() for s in self.live_stages()],
            "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.updated_ms),
            "archived": self.archived,
        }


def _label(raw: Any, what: str) -> str:
    if not isinstance(raw, str) or not _LABEL_RE.search(raw):
        raise validation_error(f"{what} label is required.")
    if what == "Pipeline" and len(raw) > MAX_LABEL:  # documented for pipelines only
        raise validation_error(f"{what} label must be at most {MAX_LABEL} characters.")
    return raw


def _order(raw: Any, what: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise validation_error(f"{what} displayOrder must be an integer.")
    return raw


def _metadata(raw: Any) -> dict[str, str]:
    """Deal stage metadata: ``probability`` between 0 and 1 is required; values are kept as
    strings, as HubSpot answers them."""
    if not isinstance(raw, dict):
        raise validation_error("Stage metadata is required for deal stages.")
    probability = raw.get("probability")
    try:
        value = float(probability) if probability is not None else None
    except (TypeError, ValueError):
        value = None
    if value is None or not 0.0 <= value <= 1.0:
        raise validation_error("Deal stage metadata needs a probability between 0.0 and 1.0.")
    metadata = {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in raw.items()}
    metadata["probability"] = str(value)
    metadata.setdefault("isClosed", "true" if value in (0.0, 1.0) else "false")
    return metadata


class Pipelines:
    """The deal pipelines of one portal, in creation order."""

    def __init__(self, created_ms: int) -> None:
        self._items: dict[str, Pipeline] = {}
        self._next_id = 1
        default = Pipeline(DEFAULT_PIPELINE, "Sales Pipeline", 0, created_ms, created_ms)
        for order, (stage_id, label, probability, closed) in enumerate(_DEFAULT_STAGES):
            metadata = {"isClosed": "true" if closed else "false", "probability": probability}
            default.stages.append(Stage(stage_id, label, order, metadata, created_ms, created_ms))
        self._items[default.id] = default

    def _new_id(self) -> str:
        value = str(self._next_id)
        self._next_id += 1
        return value

    def live(self) -> list[Pipeline]:
        return sorted(
            (p for p in self._items.values() if not p.archived),
            key=lambda p: (p.display_order, p.label),
        )

    def get(self, pipeline_id: str) -> Pipeline:
        found = self._items.get(pipeline_id)
        if found is None or found.archived:
            raise HubSpotError(
                404, "OBJECT_NOT_FOUND", f"Unable to find pipeline with id {pipeline_id}"
            )
        return found

    def stage_ids(self) -> list[tuple[str, str]]:
        """(label, id) of every live stage of every live pipeline: ``dealstage``'s options."""
        return [(s.label, s.id) for p in self.live() for s in p.live_stages()]

    def create(self, body: Mapping[str, Any], ms: int) -> Pipeline:
        label = _label(body.get("label"), "Pipeline")
        if any(p.label == label for p in self.live()):
            raise HubSpotError(409, "CONFLICT", f"A pipeline with label {label} already exists.")
        raw_stages = body.get("stages")
        if not isinstance(raw_stages, list) or not raw_stages:
            raise validation_error("A pipeline needs at least one stage.")
        if len(raw_stages) > MAX_STAGES:
            raise validation_error(f"A pipeline can have at most {MAX_STAGES} stages.")
        order = _order(body.get("displayOrder"), "Pipeline")
        pipeline = Pipeline(self._new_id(), label, order, ms, ms)
        for raw in raw_stages:
            pipeline.stages.append(self._stage(raw if isinstance(raw, dict) else {}, ms))
        self._items[pipeline.id] = pipeline
        return pipeline

    def _stage(self, raw: Mapping[str, Any], ms: int) -> Stage:
        return Stage(
            self._new_id(),
            _label(raw.get("label"), "Stage"),
            _order(raw.get("displayOrder"), "Stage"),
            _metadata(raw.get("metadata")),
            ms,
            ms,
        )

    def update(self, pipeline_id: str, body: Mapping[str, Any], ms: int) -> Pipeline:
        pipeline = self._items.get(pipeline_id)
        if pipeline is None or (pipeline.archived and body.get("archived") is not False):
            raise HubSpotError(
                404, "OBJECT_NOT_FOUND", f"Unable to find pipeline with id {pipeline_id}"
            )
        if "label" in body:
            pipeline.label = _label(body["label"], "Pipeline")
        if "displayOrder" in body:
            pipeline.display_order = _order(body["displayOrder"], "Pipeline")
        if body.get("archived") is False:
            pipeline.archived = False  # PATCH with archived=false restores a pipeline
        pipeline.updated_ms = ms
        return pipeline

    def replace(self, pipeline_id: str, body: Mapping[str, Any], ms: int) -> Pipeline:
        """``PUT``: a new label, order and set of stages (the old stages are archived)."""
        pipeline = self.get(pipeline_id)
        label = _label(body.get("label"), "Pipeline")
        order = _order(body.get("displayOrder"), "Pipeline")
        raw_stages = body.get("stages")
        if not isinstance(raw_stages, list) or not raw_stages:
            raise validation_error("A pipeline needs at least one stage.")
        if len(raw_stages) > MAX_STAGES:
            raise validation_error(f"A pipeline can have at most {MAX_STAGES} stages.")
        fresh = [self._stage(raw if isinstance(raw, dict) else {}, ms) for raw in raw_stages]
        for stage in pipeline.stages:
            stage.archived = True
        pipeline.stages.extend(fresh)
        pipeline.label, pipeline.display_order, pipeline.updated_ms = label, order, ms
        return pipeline

    def archive(self, pipeline_id: str, ms: int) -> None:
        pipeline = self.get(pipeline_id)
        if len(self.live()) == 1:
            raise validation_error("An account must keep at least one pipeline.")
        pipeline.archived = True
        pipeline.updated_ms = ms

    def add_stage(self, pipeline_id: str, body: Mapping[str, Any], ms: int) -> Stage:
        pipeline = self.get(pipeline_id)
        if len(pipeline.live_stages()) >= MAX_STAGES:
            raise validation_error(f"A pipeline can have at most {MAX_STAGES} stages.")
        stage = self._stage(body, ms)
        pipeline.stages.append(stage)
        pipeline.updated_ms = ms
        return stage

    def update_stage(
        self, pipeline_id: str, stage_id: str, body: Mapping[str, Any], ms: int
    ) -> Stage:
        stage = self.get(pipeline_id).stage(stage_id)
        if "label" in body:
            stage.label = _label(body["label"], "Stage")
        if "displayOrder" in body:
            stage.display_order = _order(body["displayOrder"], "Stage")
        if "metadata" in body:
            stage.metadata = _metadata(body["metadata"])
        stage.updated_ms = ms
        return stage

    def replace_stage(
        self, pipeline_id: str, stage_id: str, body: Mapping[str, Any], ms: int
    ) -> Stage:
        """``PUT``: label, order and metadata all given anew."""
        stage = self.get(pipeline_id).stage(stage_id)
        fresh = self._stage(body, ms)
        stage.label, stage.display_order, stage.metadata = (
            fresh.label,
            fresh.display_order,
            fresh.metadata,
        )
        stage.updated_ms = ms
        return stage

    def archive_stage(self, pipeline_id: str, stage_id: str, ms: int) -> None:
        pipeline = self.get(pipeline_id)
        stage = pipeline.stage(stage_id)
        if len(pipeline.live_stages()) == 1:
            raise validation_error("A pipeline must keep at least one stage.")
        stage.archived = True
        stage.updated_ms = ms

    # --- snapshot (the state folder) ---------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return {"next_id": self._next_id, "pipelines": [asdict(p) for p in self._items.values()]}

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._next_id = int(state["next_id"])
        self._items = {}
        for row in state["pipelines"]:
            stages = [Stage(**s) for s in row["stages"]]
            self._items[row["id"]] = replace(Pipeline(**{**row, "stages": []}), stages=stages)
