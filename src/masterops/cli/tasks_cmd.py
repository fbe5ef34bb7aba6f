"""``ops tasks add|list|show|update|log|retryable``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from masterops.cli.errors import UsageError
from masterops.cli.options import JsonOpt, WideOpt, command_context, limit_option
from masterops.cli.output import print_json, print_mapping, print_table

app = typer.Typer(help="Track tasks and their logs.", no_args_is_help=True)
LIST_COLUMNS = (
    "id",
    "status",
    "priority",
    "business",
    "category",
    "title",
    "retry_count",
    "updated_at",
)


@app.command("add")
def add(
    title: Annotated[str, typer.Argument(help="What is to be done.")],
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    business: Annotated[str | None, typer.Option("--business", "-b")] = None,
    category: Annotated[str | None, typer.Option("--category", "-c")] = None,
    priority: Annotated[int, typer.Option("--priority", "-p", help="1 highest .. 5 lowest")] = 3,
    step: Annotated[
        list[str] | None, typer.Option("--step", help="A plan step (repeatable).")
    ] = None,
    assign: Annotated[str | None, typer.Option("--assign")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Add a task."""
    from masterops.tasks import store

    with command_context(json_output) as ctx, ctx.database().begin() as conn:
        if business is not None:
            ctx.config.business(business)
        task_id = store.add_task(
            conn,
            title,
            description=description,
            business=business,
            category=category,
            priority=priority,
            plan=step,
            assigned_to=assign,
        )
        task = store.get_task(conn, task_id)
    if json_output:
        print_json(task)
    else:
        typer.echo(f"task {task_id} added")


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option("--status", "-s")] = None,
    business: Annotated[str | None, typer.Option("--business", "-b")] = None,
    category: Annotated[str | None, typer.Option("--category", "-c")] = None,
    limit: Annotated[int, limit_option("Tasks at most.")] = 50,
    json_output: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """List tasks, highest priority first."""
    from masterops.tasks import store

    with command_context(json_output) as ctx, ctx.database().connect() as conn:
        rows = store.list_tasks(
            conn, status=status, business=business, category=category, limit=limit
        )
    if json_output:
        print_json(rows)
    else:
        print_table(
            rows,
            LIST_COLUMNS,
            title="Tasks",
            empty="no tasks",
            optional=("retry_count", "category", "business"),
            wide=wide,
        )


@app.command("show")
def show(task_id: int, json_output: JsonOpt = False) -> None:
    """Show one task and its log."""
    from masterops.tasks import store

    with command_context(json_output) as ctx, ctx.database().connect() as conn:
        task = store.get_task(conn, task_id)
        logs = store.task_logs_for(conn, task_id)
    if json_output:
        print_json({"task": task, "logs": logs})
        return
    print_mapping(task, title=f"Task {task_id}")
    print_table(
        logs,
        ("created_at", "level", "status", "source", "message"),
        title="Log",
        empty="no log entries",
    )


def _parse_sets(pairs: list[str]) -> dict[str, Any]:
    from masterops.db.queries import coerce_value
    from masterops.db.tables import tasks

    changes: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--set {pair!r} must look like field=value")
        key = key.strip()
        changes[key] = coerce_value(tasks, key, value) if key in tasks.c else value
    return changes


@app.command("update")
def update(
    task_id: int,
    status: Annotated[str | None, typer.Option("--status", "-s")] = None,
    priority: Annotated[int | None, typer.Option("--priority", "-p")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Completion notes.")] = None,
    error: Annotated[str | None, typer.Option("--error", help="Error message.")] = None,
    sets: Annotated[list[str] | None, typer.Option("--set", help="field=value")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Change a task's status, priority or fields."""
    from masterops.tasks import store

    changes = _parse_sets(sets or [])
    for key, value in (
        ("status", status),
        ("priority", priority),
        ("completion_notes", notes),
        ("error_message", error),
    ):
        if value is not None:
            changes[key] = value
    if not changes:
        raise UsageError("nothing to change: give --status, --priority, --notes, --error or --set")
    with command_context(json_output) as ctx, ctx.database().begin() as conn:
        task = store.update_task(conn, task_id, changes)
    if json_output:
        print_json(task)
    else:
        typer.echo(f"task {task_id}: {task['status']}")


@app.command("log")
def log(
    task_id: int,
    message: str,
    level: Annotated[str, typer.Option("--level", "-l")] = "info",
    json_output: JsonOpt = False,
) -> None:
    """Add a log entry to a task."""
    from masterops.tasks import store

    with command_context(json_output) as ctx, ctx.database().begin() as conn:
        log_id = store.add_log(conn, task_id, message, level=level)
    if json_output:
        print_json({"task_id": task_id, "log_id": log_id})
    else:
        typer.echo(f"logged to task {task_id}")


@app.command("retryable")
def retryable(json_output: JsonOpt = False) -> None:
    """Failed tasks with retries left whose next action time has come."""
    from masterops.tasks import store

    with command_context(json_output) as ctx, ctx.database().connect() as conn:
        rows = store.retryable_tasks(conn)
    if json_output:
        print_json(rows)
    else:
        print_table(
            rows,
            (*LIST_COLUMNS, "next_action_after"),
            title="Retryable tasks",
            empty="no task is waiting for a retry",
        )
