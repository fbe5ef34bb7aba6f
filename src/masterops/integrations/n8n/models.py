"""What the n8n public API v1 returns, as pydantic models.

Attributes are snake_case; the wire's camelCase names are the aliases, so
``Execution.model_validate(payload)`` takes an API answer as it is and
``model_dump(by_alias=True)`` gives it back. The real server is not consistent about
types (an execution ``id`` is a string in lists and a number in the answer to a delete,
``retryOf`` a number in the answer to a retry), so ids are coerced to strings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

#: The values ``GET /executions?status=`` accepts (the real server answers 400 to others).
ExecutionStatusFilter = Literal["canceled", "error", "running", "success", "waiting"]
EXECUTION_STATUS_FILTERS: tuple[str, ...] = ("canceled", "error", "running", "success", "waiting")
#: Statuses an execution may have; "crashed" is listed under the "error" filter.
FAILED_STATUSES = frozenset({"error", "crashed"})


def _utc(value: datetime | None) -> datetime | None:
    # n8n writes "...Z"; a naive timestamp (an older server, a hand-made payload) is UTC too.
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime | None, AfterValidator(_utc)]


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        coerce_numbers_to_str=True,
        extra="ignore",
    )


class Tag(_Model):
    """A tag. An updated tag comes back without ``createdAt``."""

    id: str
    name: str
    created_at: UtcDatetime = None
    updated_at: UtcDatetime = None


class Node(_Model):
    """One node of a workflow. Fields this model does not name are kept (``extra="allow"``)
    and sent back unchanged, so a read-modify-write never drops what n8n stored."""

    model_config = ConfigDict(extra="allow")

    name: str
    type: str
    type_version: float = 1
    position: list[float] = Field(default_factory=lambda: [0.0, 0.0])
    parameters: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None
    # A Webhook node needs one for its production URL to be /webhook/<path>.
    webhook_id: str | None = None
    credentials: dict[str, Any] | None = None
    disabled: bool | None = None

    @field_validator("type_version")
    @classmethod
    def _whole_versions_stay_ints(cls, value: float) -> float:
        # typeVersion 2 must go back as 2, not 2.0 (n8n keys node behaviour on it).
        return int(value) if float(value).is_integer() else value

    def to_api(self) -> dict[str, Any]:
        """The node as the API takes it: camelCase, no unset optional fields."""
        return self.model_dump(by_alias=True, exclude_none=True)


class Workflow(_Model):
    """A workflow as ``GET /workflows/{id}`` and the lists show it (``tags`` is empty in
    answers that leave it out: create, activate)."""

    id: str
    name: str
    active: bool = False
    nodes: list[Node] = Field(default_factory=list)
    connections: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    tags: list[Tag] = Field(default_factory=list)
    version_id: str | None = None
    is_archived: bool = False
    created_at: UtcDatetime = None
    updated_at: UtcDatetime = None

    @field_validator("tags", mode="before")
    @classmethod
    def _null_tags(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]


class Execution(_Model):
    """One run of a workflow.

    ``error_message`` and ``error_node`` are taken from ``data.resultData.error`` when the
    execution was read with ``includeData``; ``data`` itself is kept as the raw run data.
    """

    id: str
    workflow_id: str
    status: str
    mode: str
    finished: bool = False
    started_at: UtcDatetime = None
    stopped_at: UtcDatetime = None
    wait_till: UtcDatetime = None
    retry_of: str | None = None
    retry_success_id: str | None = None
    data: dict[str, Any] | None = Field(default=None, repr=False)
    error_message: str | None = None
    error_node: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _extract_error(cls, payload: Any) -> Any:
        if not isinstance(payload, dict) or payload.get("error_message") is not None:
            return payload
        message, node = error_from_run_data(payload.get("data"))
        if message is None and node is None:
            return payload
        return {**payload, "error_message": message, "error_node": node}

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.stopped_at is None:
            return None
        return (self.stopped_at - self.started_at).total_seconds()


def error_from_run_data(data: Any) -> tuple[str | None, str | None]:
    """(message, failing node name) from an execution's ``data``, or Nones.

    ``error.node`` is the node object on n8n 1.x and may be a bare name elsewhere; without
    it the last node executed is the one that failed.
    """
    if not isinstance(data, dict):
        return None, None
    result = data.get("resultData")
    if not isinstance(result, dict):
        return None, None
    error = result.get("error")
    if not isinstance(error, dict):
        return None, None
    message = error.get("message") or error.get("description")
    node = error.get("node")
    name = node.get("name") if isinstance(node, dict) else node
    if not isinstance(name, str) or not name:
        last = result.get("lastNodeExecuted")
        name = last if isinstance(last, str) and last else None
    return (str(message) if message else None), name


class ExecutionFailure(BaseModel):
    """One failed run, for a dashboard's "recent failures"."""

    execution_id: str
    started_at: datetime | None
    stopped_at: datetime | None
    mode: str
    status: str
    error_message: str | None
    error_node: str | None


class WorkflowStats(BaseModel):
    """How one workflow's runs went since ``since``.

    ``failed`` counts "error" and "crashed"; ``success_rate`` is
    ``succeeded / (succeeded + failed)`` (cancelled and unfinished runs are neither), None
    when nothing finished. ``recent_failures`` is newest first.
    """

    workflow_id: str
    workflow_name: str | None
    active: bool | None
    since: datetime
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    canceled: int = 0
    unfinished: int = 0
    success_rate: float | None = None
    last_execution_at: datetime | None = None
    last_failure_at: datetime | None = None
    recent_failures: list[ExecutionFailure] = Field(default_factory=list)
