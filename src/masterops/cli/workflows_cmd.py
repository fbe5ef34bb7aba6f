"""``ops workflows ...``: the n8n workflows, live (list, failures, activate, deactivate) and
from the library in ``infra/n8n-workflows`` (validate, show, deploy, diff, export).

n8n is one instance for every business: the commands use the first configured business
that has n8n, or the one ``--business`` names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from masterops.cli.errors import CommandFailed, UsageError
from masterops.cli.options import BusinessOpt, JsonOpt, WideOpt, command_context, limit_option
from masterops.cli.output import console, print_json, print_table
from masterops.operations.businesses import check_business

# The connector and the library are imported when a command runs, so `ops --help` and the
# other commands do not pay for them.
if TYPE_CHECKING:
    from masterops.integrations.n8n import N8nConnector
    from masterops.workflows import WorkflowDefinition

T = TypeVar("T")

DEFAULT_LIBRARY = Path("infra/n8n-workflows")

app = typer.Typer(
    help="n8n workflows: list, failures, (de)activate; validate, show, deploy, diff and "
    "export the library.",
    no_args_is_help=True,
)

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help=f"Workflow files or folders, in the current folder or the library's "
        f"(default: all of {DEFAULT_LIBRARY}).",
        show_default=False,
    ),
]
PlatformUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--platform-url",
        help="The platform's base URL as n8n reaches it (fills {{PLATFORM_URL}}).",
        show_default=False,
    ),
]


# -- running against n8n ----------------------------------------------------------------


def _run(
    business: str | None, json_output: bool, work: Callable[[N8nConnector], Awaitable[T]]
) -> T:
    """Run ``work`` with the n8n connector (``operations.n8n_workflows.run_on_n8n``)."""
    from masterops.operations.n8n_workflows import run_on_n8n

    with command_context(json_output) as ctx:
        check_business(ctx.config, business)
        with ctx.services() as services:
            return run_on_n8n(services, business, work)


def _load(
    paths: list[Path] | None,
    json_output: bool,
    *,
    checked: bool = True,
    with_error_workflows: bool = False,
) -> list[WorkflowDefinition]:
    """The library (or the files named), checked; every problem listed and exit 2 when
    any file is wrong. With ``checked``, also the offline checks (``workflows.checks``);
    with ``with_error_workflows``, the library's error workflows the files name are
    added (``deploy orders/`` needs its error workflow on n8n to name its id)."""
    from masterops.workflows import LibraryError, load_library
    from masterops.workflows.checks import check_library
    from masterops.workflows.library import default_library, resolve_paths

    library = default_library()
    try:
        definitions = load_library(resolve_paths(paths or [library], library))
        if checked:
            whole = definitions if not paths else _whole_library(library)
            problems = check_library(definitions, whole)
            if problems:
                raise LibraryError(problems)
            if with_error_workflows and paths:
                definitions = _add_error_workflows(definitions, whole)
    except LibraryError as exc:
        if json_output:
            print_json(
                {"problems": [{"path": str(p.path), "message": p.message} for p in exc.problems]}
            )
        raise CommandFailed(str(exc), exit_code=2) from None
    return definitions


def _platform_url(url: str | None) -> str | None:
    from masterops.workflows.platform import BindingError, check_platform_url

    if url is None:
        return None
    try:
        return check_platform_url(url)
    except BindingError as exc:
        raise UsageError(f"--platform-url: {exc}") from None


def _add_error_workflows(
    definitions: list[WorkflowDefinition], whole: list[WorkflowDefinition]
) -> list[WorkflowDefinition]:
    from masterops.workflows.platform import error_workflow_name

    have = {d.name for d in definitions}
    named = {error_workflow_name(d) for d in definitions} - have
    return [*definitions, *(d for d in whole if d.name in named)]


def _whole_library(library: Path) -> list[WorkflowDefinition]:
    """Every definition of the library that loads (what an errorWorkflow may name)."""
    from masterops.workflows.library import definition_files, load_definition

    files, _ = definition_files([library])
    return [d for d in (load_definition(f)[0] for f in files) if d is not None]


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


# -- list ---------------------------------------------------------------------------------


@app.command("list")
def list_workflows(
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Only active (or only inactive) workflows."),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Carrying this tag (repeatable).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name contains this text.")] = None,
    business: BusinessOpt = None,
    json_output: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """The workflows on n8n: id, name, active, tags, last update."""

    async def work(n8n: N8nConnector) -> list[dict[str, Any]]:
        return [
            {
                "id": wf.id,
                "name": wf.name,
                "active": wf.active,
                "tags": wf.tag_names,
                "updated": wf.updated_at,
            }
            async for wf in n8n.list_workflows(active=active, tags=tag or None, name=name)
        ]

    rows = _run(business, json_output, work)
    if json_output:
        print_json(rows)
        return
    print_table(
        [
            {
                **r,
                "active": "yes" if r["active"] else "no",
                "tags": ", ".join(r["tags"]),
            }
            for r in rows
        ],
        ["id", "name", "active", "tags", "updated"],
        empty="no workflows match",
        optional=("tags", "id"),
        wide=wide,
    )


# -- failures -----------------------------------------------------------------------------


@app.command("failures")
def failures(
    since: Annotated[
        str, typer.Option(help="The window: a duration (24h, 7d) or an ISO time.")
    ] = "24h",
    workflow: Annotated[
        str | None, typer.Option("--workflow", help="Only this workflow (id or name).")
    ] = None,
    limit: Annotated[
        int, limit_option("Failures shown per workflow, newest first.", minimum=0)
    ] = 5,
    business: BusinessOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Recent failed executions (workflow, time, node, error) and each workflow's success rate."""
    from masterops.timeparse import parse_instant

    try:
        start = parse_instant(since)
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None

    async def work(n8n: N8nConnector) -> list[Any]:
        from masterops.workflows import find_workflow

        workflow_id = (await find_workflow(n8n, workflow)).id if workflow else None
        return await n8n.workflow_stats(since=start, workflow_id=workflow_id, recent_failures=limit)

    stats = _run(business, json_output, work)
    failed = [
        {
            "workflow_id": s.workflow_id,
            "workflow": s.workflow_name,
            "execution_id": f.execution_id,
            "started": f.started_at,
            "status": f.status,
            "node": f.error_node,
            "error": f.error_message or f"({f.status}, no error recorded)",
        }
        for s in stats
        for f in s.recent_failures
    ]
    failed.sort(key=lambda r: r["started"] or start, reverse=True)
    rates = [
        {
            "workflow_id": s.workflow_id,
            "workflow": s.workflow_name,
            "runs": s.total,
            "succeeded": s.succeeded,
            "failed": s.failed,
            "success_rate": s.success_rate,
            "last_failure": s.last_failure_at,
        }
        for s in stats
        if s.total or workflow
    ]
    if json_output:
        print_json({"since": start, "failures": failed, "workflows": rates})
        return
    print_table(
        [{**r, "started": _when(r["started"])} for r in failed],
        ["workflow", "started", "node", "error", "execution_id"],
        title=f"Failed executions since {_when(start)} UTC",
        empty="no failed executions in this window",
    )
    print_table(
        [
            {
                **r,
                "success_rate": "" if r["success_rate"] is None else f"{r['success_rate']:.1%}",
                "last_failure": _when(r["last_failure"]),
            }
            for r in rates
        ],
        ["workflow", "runs", "succeeded", "failed", "success_rate", "last_failure"],
        title="Success rate per workflow",
        empty="no executions in this window",
    )


# -- activate / deactivate ----------------------------------------------------------------


def _set_active(ref: str, active: bool, business: str | None, json_output: bool) -> None:
    from masterops.integrations.base import IntegrationError
    from masterops.workflows import find_workflow

    verb = "activate" if active else "deactivate"

    async def work(n8n: N8nConnector) -> dict[str, Any]:
        wf = await find_workflow(n8n, ref)
        try:
            done = await (n8n.activate(wf.id) if active else n8n.deactivate(wf.id))
        except IntegrationError as exc:
            # n8n's own words (a webhook path taken, no trigger) are what the operator needs.
            raise CommandFailed(
                f"n8n refused to {verb} {wf.name!r} ({wf.id}): {exc.message}"
            ) from None
        return {"id": wf.id, "name": wf.name, "active": done.active, "was_active": wf.active}

    row = _run(business, json_output, work)
    if json_output:
        print_json(row)
        return
    state = "active" if row["active"] else "inactive"
    unchanged = " (it already was)" if row["was_active"] == row["active"] else ""
    console().print(f"{row['name']} ({row['id']}) is {state}{unchanged}", markup=False)


@app.command("activate")
def activate(
    workflow: Annotated[str, typer.Argument(help="Workflow id or exact name.")],
    business: BusinessOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Activate a workflow (its triggers and webhooks go live)."""
    _set_active(workflow, True, business, json_output)


@app.command("deactivate")
def deactivate(
    workflow: Annotated[str, typer.Argument(help="Workflow id or exact name.")],
    business: BusinessOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Deactivate a workflow (its triggers and webhooks stop)."""
    _set_active(workflow, False, business, json_output)


# -- deploy / diff ------------------------------------------------------------------------


@app.command("deploy")
def deploy(
    paths: PathsArg = None,
    activate: Annotated[
        bool, typer.Option("--activate", help="Activate every deployed workflow.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would change; change nothing.")
    ] = False,
    platform_url: PlatformUrlOpt = None,
    business: BusinessOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Create or update the library's workflows on n8n, matched by exact name.

    Every file is checked first (as `validate` does): one bad file and nothing is
    deployed (exit 2). The error workflow goes first (also when only other files are
    named); the others name its id as their error workflow. When n8n has no
    "Master-Ops platform" credential yet, an operate token is created and kept in a new
    one. Deployed workflows are tagged "masterops";
    a second deploy changes nothing."""
    from masterops.operations.n8n_workflows import deploy_workflows

    platform_url = _platform_url(platform_url)
    definitions = _load(paths, json_output, with_error_workflows=True)
    with command_context(json_output) as ctx:
        check_business(ctx.config, business)
        engine = None if dry_run else ctx.database()
        with ctx.services() as services:
            results = deploy_workflows(
                services,
                business,
                definitions,
                activate=activate,
                dry_run=dry_run,
                platform_url=platform_url,
                engine=engine,
            )
    if json_output:
        print_json([r.to_dict() for r in results])
    else:
        print_table(
            [
                {
                    "workflow": r.name,
                    "status": ("would be " if dry_run and r.status != "unchanged" else "")
                    + r.status,
                    "id": r.workflow_id,
                    "active": "yes" if r.active else "no",
                    "detail": r.error or r.note or _changes_summary(r.changes),
                }
                for r in results
            ],
            ["workflow", "status", "id", "active", "detail"],
            title="Deploy (dry run: nothing changed)" if dry_run else "Deploy",
        )
    failed = [r for r in results if not r.ok]
    if failed:
        names = ", ".join(repr(r.name) for r in failed)
        raise CommandFailed(f"{len(failed)} workflow(s) failed to deploy: {names}")


def _changes_summary(changes: tuple[str, ...], shown: int = 3) -> str:
    more = f" (+{len(changes) - shown} more)" if len(changes) > shown else ""
    return "; ".join(changes[:shown]) + more


@app.command("diff")
def diff(
    paths: PathsArg = None,
    ignore_positions: Annotated[
        bool,
        typer.Option("--ignore-positions", help="Moving a node on the canvas is not a change."),
    ] = False,
    orphans: Annotated[
        bool,
        typer.Option(
            "--orphans",
            help='Report "masterops" workflows no given file defines (always on when no PATH '
            "is given: the whole library).",
        ),
    ] = False,
    all_server: Annotated[
        bool,
        typer.Option("--all", help="Report every server workflow no file defines."),
    ] = False,
    platform_url: PlatformUrlOpt = None,
    business: BusinessOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Compare the library with n8n. Exit 1 when anything differs (for CI), 0 when in sync."""
    from masterops.operations.n8n_workflows import diff_workflows

    platform_url = _platform_url(platform_url)
    definitions = _load(paths, json_output)
    with command_context(json_output) as ctx:
        check_business(ctx.config, business)
        with ctx.services() as services:
            diffs = diff_workflows(
                services,
                business,
                definitions,
                ignore_positions=ignore_positions,
                # A few files are part of the library: the rest is not "only on server".
                orphans=orphans or not paths,
                all_server=all_server,
                platform_url=platform_url,
            )
    if json_output:
        print_json([d.to_dict() for d in diffs])
    else:
        out = console()
        for d in diffs:
            out.print(f"{d.name}: {d.status}", markup=False, highlight=False)
            for change in d.changes:
                out.print(f"    {change}", markup=False, highlight=False)
    differing = [d for d in diffs if d.status != "in sync"]
    if differing:
        raise CommandFailed(f"{len(differing)} of {len(diffs)} workflow(s) differ from n8n")


# -- validate / show / export -------------------------------------------------------------


@app.command("validate")
def validate(paths: PathsArg = None, json_output: JsonOpt = False) -> None:
    """Check library files offline: structure, node types and versions of the pinned n8n,
    placeholders, platform routes and the fields expressions read from them, the error
    workflow. Exit 2 with every problem listed, 0 when all are valid."""
    from masterops.workflows.catalogue import N8N_VERSION

    definitions = _load(paths, json_output)
    rows = [{"workflow": d.name, "file": str(d.path), "nodes": len(d.nodes)} for d in definitions]
    if json_output:
        print_json({"valid": rows, "n8n": N8N_VERSION, "problems": []})
        return
    print_table(rows, ["workflow", "file", "nodes"], title=f"Valid for n8n {N8N_VERSION}")


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="A library workflow's exact name, or its file.")],
    json_output: JsonOpt = False,
) -> None:
    """A library workflow: its triggers, the platform routes it calls, with what token or
    secret, its error workflow and its nodes (from the file; nothing is read from n8n)."""
    from masterops.workflows.summary import describe

    definitions = _load(None, json_output, checked=False)
    chosen = [d for d in definitions if d.name == name or _same_file(d.path, name)]
    if not chosen:
        known = "; ".join(sorted(d.name for d in definitions))
        raise UsageError(f"no library workflow named {name!r} (the library has: {known})")
    summary = describe(chosen[0])
    if json_output:
        print_json(summary)
        return
    out = console()
    keys = ("name", "file", "tags", "triggers", "calls", "credential", "signed_with")
    for key in (*keys, "error_workflow"):
        value = summary[key]
        text = ", ".join(value) if isinstance(value, list) else str(value or "-")
        out.print(f"{key.replace('_', ' ')}: {text}", markup=False, highlight=False)
    print_table(summary["nodes"], ["name", "type", "version"], title="Nodes")


def _same_file(path: Path, ref: str) -> bool:
    candidate = Path(ref)
    try:
        return path.resolve() == candidate.resolve() or path.name == ref
    except OSError:
        return False


@app.command("export")
def export(
    workflow: Annotated[str, typer.Argument(help="The workflow's n8n id or exact name.")],
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            help="Write here (a file; '-' for stdout). Default: the library file that "
            "defines it, or a new file in the library.",
        ),
    ] = None,
    business: BusinessOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Pull a workflow edited in n8n back into the library, without what belongs to one
    server (ids, versions, timestamps, credential ids, the platform URL)."""
    import sys

    from masterops.operations.n8n_workflows import export_workflow
    from masterops.workflows.export import new_file_name, render_document
    from masterops.workflows.library import default_library

    with command_context(json_output) as ctx:
        check_business(ctx.config, business)
        with ctx.services() as services:
            document = export_workflow(services, business, workflow)
    text = render_document(document)
    if to is not None and str(to) == "-":
        sys.stdout.write(text)
        return
    library = default_library()
    target = to
    if target is None:
        existing = [d.path for d in _whole_library(library) if d.name == document["name"]]
        target = existing[0] if existing else new_file_name(document["name"], library)
    if target.is_dir():
        raise UsageError(f"--to {target} is a folder; name a file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandFailed(f"cannot write {target}: {exc.strerror or exc}") from None
    if json_output:
        print_json({"name": document["name"], "path": str(target)})
    else:
        console().print(f"{document['name']} -> {target}", markup=False, highlight=False)
