"""The n8n sandbox's state: workflows, tags, executions and the live webhook registry.

Plain objects and plain rules, no HTTP. The rules are the real server's (n8n 1.123,
checked against a running instance): ids of workflows and tags are 16-character
alphanumerics, execution ids are integers shown as strings, activation needs a
trigger node, and a webhook path+method can belong to one active workflow only.
"""

from __future__ import annotations

import bisect
import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

Clock = Callable[[], datetime]
JSON = dict[str, Any]

_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Node types that look like triggers but cannot make a workflow activatable.
_NOT_ACTIVATABLE = {"manualTrigger", "errorTrigger", "executeWorkflowTrigger", "start"}
_POLLERS = {"cron", "interval"}
WEBHOOK_TYPE = "n8n-nodes-base.webhook"
TAG_NAME_MAX = 24  # the real server refuses longer names (and answers 409, see routes_tags)
EXECUTION_STATUSES = ("canceled", "crashed", "error", "new", "running", "success", "waiting")


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: float | None) -> str | None:
    """Epoch seconds as n8n writes timestamps: ISO 8601, milliseconds, 'Z'."""
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Conflict(Exception):
    """A name or path is already taken."""


class ActivationError(Exception):
    """The workflow cannot be activated; the message is the real server's."""


@dataclass(slots=True)
class Tag:
    id: str
    name: str
    created_at: float
    updated_at: float


@dataclass
class Workflow:
    id: str
    name: str
    nodes: list[JSON]
    connections: JSON
    settings: JSON
    static_data: Any
    created_at: float
    updated_at: float
    version_id: str
    version_counter: int = 1
    trigger_count: int = 0
    active_version_id: str | None = None
    activated_at: float | None = None
    tag_ids: list[str] = field(default_factory=list)
    shared_at: float = 0.0
    # versionId -> (name, nodes, connections, created_at), for GET /workflows/{id}/{versionId}
    versions: dict[str, tuple[str, list[JSON], JSON, float]] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.active_version_id is not None

    def node(self, name: str) -> JSON | None:
        return next((n for n in self.nodes if n.get("name") == name), None)


@dataclass(slots=True)
class Execution:
    """One run. Seeded runs keep only what a list shows; their ``data`` is rebuilt on demand
    from the workflow, which keeps 100k seeded executions cheap."""

    id: int
    workflow_id: str
    mode: str
    status: str
    created_at: float
    started_at: float
    stopped_at: float | None
    retry_of: int | None = None
    retry_success_id: int | None = None
    wait_till: float | None = None
    error_message: str | None = None
    error_node: str | None = None
    data: JSON | None = None
    workflow_data: JSON | None = None

    @property
    def finished(self) -> bool:
        return self.status == "success"


def is_trigger(node: JSON) -> bool:
    """Whether a node can start an active workflow (trigger, poller or webhook)."""
    if node.get("disabled"):
        return False
    short = str(node.get("type", "")).rsplit(".", 1)[-1]
    if short in _NOT_ACTIVATABLE:
        return False
    return short == "webhook" or short.endswith("Trigger") or short in _POLLERS


def webhook_routes(node: JSON) -> list[tuple[str, str]]:
    """(METHOD, path) pairs a Webhook node registers when its workflow is active.

    Without an explicit ``webhookId`` the real server registers the node under an
    internal path, so ``/webhook/<path>`` stays 404: such nodes register nothing here."""
    if node.get("type") != WEBHOOK_TYPE or node.get("disabled") or not node.get("webhookId"):
        return []
    params = node.get("parameters") or {}
    path = str(params.get("path", "")).strip("/")
    methods = params.get("httpMethod", "GET")
    if isinstance(methods, str):
        methods = [methods]
    return [(str(m).upper(), path) for m in methods]


class N8nStore:
    """Everything one n8n instance holds, deterministic for a seed."""

    def __init__(self, *, seed: int = 0, clock: Clock = utcnow) -> None:
        self._rng = random.Random(f"n8n-ids:{seed}")
        self._clock = clock
        self.tags: dict[str, Tag] = {}
        self.workflows: dict[str, Workflow] = {}
        self.executions: dict[int, Execution] = {}
        self._execution_ids: list[int] = []  # ascending; lists walk it backwards (newest first)
        self._next_execution_id = 1
        self.webhooks: dict[tuple[str, str], tuple[str, str]] = {}  # (method, path) -> (wf, node)
        self.owner_user_id = self.new_uuid()
        self.project_id = self.new_id()
        self.created_at = self.now()

    # ids and time
    def now(self) -> float:
        # Millisecond precision, as the real server stores timestamps.
        return round(self._clock().timestamp(), 3)

    def new_id(self) -> str:
        return "".join(self._rng.choice(_ID_ALPHABET) for _ in range(16))

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    # tags
    def tag_by_name(self, name: str) -> Tag | None:
        return next((t for t in self.tags.values() if t.name == name), None)

    def create_tag(self, name: str) -> Tag:
        self._check_tag_name(name, None)
        now = self.now()
        tag = Tag(self.new_id(), name, now, now)
        self.tags[tag.id] = tag
        return tag

    def rename_tag(self, tag: Tag, name: str) -> Tag:
        self._check_tag_name(name, tag.id)
        tag.name, tag.updated_at = name, self.now()
        return tag

    def _check_tag_name(self, name: str, own_id: str | None) -> None:
        if not name or len(name) > TAG_NAME_MAX:
            raise Conflict(name)
        existing = self.tag_by_name(name)
        if existing is not None and existing.id != own_id:
            raise Conflict(name)

    def delete_tag(self, tag_id: str) -> Tag | None:
        tag = self.tags.pop(tag_id, None)
        if tag is not None:
            for wf in self.workflows.values():
                if tag_id in wf.tag_ids:
                    wf.tag_ids.remove(tag_id)
        return tag

    def sorted_tags(self) -> list[Tag]:
        # SQLite hands rows back in primary-key order, and the real server adds no ORDER BY.
        return sorted(self.tags.values(), key=lambda t: t.id)

    # workflows
    def create_workflow(
        self,
        name: str,
        nodes: list[JSON],
        connections: JSON,
        settings: JSON,
        static_data: Any = None,
    ) -> Workflow:
        now = self.now()
        wf = Workflow(
            id=self.new_id(),
            name=name,
            nodes=self._with_node_ids(nodes),
            connections=connections,
            settings=_with_default_settings(settings),
            static_data=static_data,
            created_at=now,
            updated_at=now,
            version_id=self.new_uuid(),
            shared_at=now,
        )
        wf.versions[wf.version_id] = (wf.name, wf.nodes, wf.connections, now)
        self.workflows[wf.id] = wf
        return wf

    def update_workflow(
        self,
        wf: Workflow,
        *,
        name: str,
        nodes: list[JSON],
        connections: JSON,
        settings: JSON,
        static_data: Any = None,
    ) -> Workflow:
        was_active = wf.active
        nodes = self._with_node_ids(nodes)
        wf.name, wf.nodes, wf.connections = name, nodes, connections
        wf.settings = _with_default_settings(settings)
        wf.static_data = static_data
        wf.updated_at = self.now()
        wf.version_id = self.new_uuid()
        wf.version_counter += 1
        wf.versions[wf.version_id] = (wf.name, wf.nodes, wf.connections, wf.updated_at)
        if was_active:
            # Saving an active workflow republishes it. If the new version cannot be
            # activated, the real server keeps the save, leaves the workflow inactive
            # and answers 400: so do we.
            try:
                self.activate(wf, republish=True)
            except ActivationError:
                self._unregister(wf.id)
                wf.active_version_id = None
                wf.activated_at = None
                raise
        return wf

    def delete_workflow(self, workflow_id: str) -> Workflow | None:
        wf = self.workflows.pop(workflow_id, None)
        if wf is None:
            return None
        self._unregister(wf.id)
        # The real server stops showing a deleted workflow's executions; dropping them is the same
        # to every API reader and frees the memory.
        doomed = [e.id for e in self.executions.values() if e.workflow_id == workflow_id]
        for execution_id in doomed:
            self.delete_execution(execution_id)
        return wf

    def sorted_workflows(self) -> list[Workflow]:
        return sorted(self.workflows.values(), key=lambda w: w.id)

    def activate(self, wf: Workflow, *, republish: bool = False) -> None:
        """Publish the current version and register its webhooks.

        The real server saves once for an activation and once more when the trigger
        count changes; an update that republishes an active workflow adds no save."""
        self._check_activatable(wf.id, wf.name, wf.nodes)
        triggers = [n for n in wf.nodes if is_trigger(n)]
        if not republish and not wf.active:  # activating an active workflow saves nothing
            wf.version_counter += 1
            if wf.trigger_count != len(triggers):
                wf.version_counter += 1
        self._unregister(wf.id)
        for node in wf.nodes:
            for route in webhook_routes(node):
                self.webhooks[route] = (wf.id, str(node.get("name")))
        wf.active_version_id = wf.version_id
        wf.activated_at = self.now()
        wf.trigger_count = len(triggers)

    def _check_activatable(self, workflow_id: str, name: str, nodes: list[JSON]) -> None:
        if not any(is_trigger(n) for n in nodes):
            raise ActivationError(
                f'Workflow "{name}" (ID: {workflow_id}) has no node to start the workflow - '
                "at least one trigger, poller or webhook node is required"
            )
        self._check_webhook_paths(workflow_id, nodes)

    def deactivate(self, wf: Workflow) -> None:
        if wf.active:
            wf.version_counter += 1
        self._unregister(wf.id)
        wf.active_version_id = None
        wf.activated_at = None

    def set_workflow_tags(self, wf: Workflow, tag_ids: Iterable[str]) -> None:
        wanted = list(dict.fromkeys(tag_ids))
        if any(t not in self.tags for t in wanted):
            raise KeyError("Some tags not found")
        wf.tag_ids = wanted

    def workflow_tags(self, wf: Workflow) -> list[Tag]:
        return sorted((self.tags[t] for t in wf.tag_ids if t in self.tags), key=lambda t: t.id)

    def _check_webhook_paths(self, workflow_id: str, nodes: list[JSON]) -> None:
        for node in nodes:
            for route in webhook_routes(node):
                owner = self.webhooks.get(route)
                if owner is not None and owner[0] != workflow_id:
                    raise ActivationError(
                        f'The URL path that the "{node.get("name")}" node uses is already taken. '
                        "Please change it to something else."
                    )

    def _unregister(self, workflow_id: str) -> None:
        for route in [r for r, (w, _) in self.webhooks.items() if w == workflow_id]:
            del self.webhooks[route]

    def _with_node_ids(self, nodes: list[JSON]) -> list[JSON]:
        # The real server gives every node without an id a fresh UUID on save.
        out = []
        for node in nodes:
            node = dict(node)
            if "id" not in node:
                node["id"] = self.new_uuid()
            out.append(node)
        return out

    # webhooks
    def webhook_methods(self, path: str) -> list[str]:
        return sorted(m for (m, p) in self.webhooks if p == path)

    # executions
    def add_execution(
        self,
        workflow_id: str,
        *,
        mode: str,
        status: str,
        started_at: float,
        stopped_at: float | None,
        created_at: float | None = None,
        retry_of: int | None = None,
        wait_till: float | None = None,
        error_message: str | None = None,
        error_node: str | None = None,
        data: JSON | None = None,
        workflow_data: JSON | None = None,
    ) -> Execution:
        if status not in EXECUTION_STATUSES:
            raise ValueError(f"unknown execution status {status!r}")
        execution = Execution(
            id=self._next_execution_id,
            workflow_id=workflow_id,
            mode=mode,
            status=status,
            created_at=created_at if created_at is not None else started_at,
            started_at=started_at,
            stopped_at=stopped_at,
            retry_of=retry_of,
            wait_till=wait_till,
            error_message=error_message,
            error_node=error_node,
            data=data,
            workflow_data=workflow_data,
        )
        self._next_execution_id += 1
        self.executions[execution.id] = execution
        self._execution_ids.append(execution.id)
        return execution

    def delete_execution(self, execution_id: int) -> Execution | None:
        execution = self.executions.pop(execution_id, None)
        if execution is not None:
            index = bisect.bisect_left(self._execution_ids, execution_id)
            del self._execution_ids[index]
        return execution

    def iter_executions_desc(self, before_id: int | None = None) -> Iterator[Execution]:
        """Executions newest first (highest id first), optionally only those below an id."""
        end = len(self._execution_ids)
        if before_id is not None:
            end = bisect.bisect_left(self._execution_ids, before_id)
        for index in range(end - 1, -1, -1):
            yield self.executions[self._execution_ids[index]]

    # snapshot (the state folder)
    def to_state(self) -> JSON:
        """Tags, workflows (with their versions), executions, live webhooks and the id
        generator as JSON data; every dataclass field is kept, so new fields need nothing."""
        return {
            "id_rng": list(self._rng.getstate()),
            "owner_user_id": self.owner_user_id,
            "project_id": self.project_id,
            "created_at": self.created_at,
            "next_execution_id": self._next_execution_id,
            "tags": [asdict(t) for t in self.tags.values()],
            "workflows": [asdict(w) for w in self.workflows.values()],
            "executions": [asdict(e) for e in self.executions.values()],
            "webhooks": [[m, p, wf, node] for (m, p), (wf, node) in self.webhooks.items()],
        }

    def load_state(self, state: JSON) -> None:
        """Replace everything with a ``to_state`` snapshot."""
        version, internal, gauss = state["id_rng"]
        self._rng.setstate((version, tuple(internal), gauss))
        self.owner_user_id = state["owner_user_id"]
        self.project_id = state["project_id"]
        self.created_at = state["created_at"]
        self._next_execution_id = int(state["next_execution_id"])
        self.tags = {row["id"]: Tag(**row) for row in state["tags"]}
        self.workflows = {}
        for row in state["workflows"]:
            versions = {key: tuple(value) for key, value in row["versions"].items()}
            self.workflows[row["id"]] = Workflow(**{**row, "versions": versions})
        self.executions = {row["id"]: Execution(**row) for row in state["executions"]}
        self._execution_ids = sorted(self.executions)
        self.webhooks = {(m, p): (wf, node) for m, p, wf, node in state["webhooks"]}


def _with_default_settings(settings: JSON) -> JSON:
    # What the real server adds to every saved workflow's settings.
    return {**settings, **{k: v for k, v in _DEFAULT_SETTINGS.items() if k not in settings}}


_DEFAULT_SETTINGS: JSON = {"callerPolicy": "workflowsFromSameOwner", "availableInMCP": False}
