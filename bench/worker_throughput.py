"""Short jobs per second with one and two ``ops worker`` processes on PostgreSQL, against a
bare DBOS workflow of the same shape measured in the same run; overlaps counted.

A "short job" is the real on-demand sync workflow (``masterops.sync_inventory``) of a
business that has no Unleashed: the whole path a job takes (a worker dequeues it from its
business's partition of the sync queue, the step takes its context, opens the services,
runs the sync, which finds nothing to do, and the alert rules read what it left, at most
once per ``[workers] alerts_every_s`` per worker), without a remote call. The baseline is
a bare DBOS workflow of the same shape: one workflow with one step, on the same queues
(the sync queue partitioned by business, partition concurrency 1, the same polling
interval; the worker's other queues beside it), run by ``--bare-worker`` processes of
this script. With ``--per-business``, the bare workflow is also measured on the shape
the syncs had before: one queue per business, global concurrency 1, each polled as often.

Each scenario gets a fresh schema (platform tables migrated, DBOS's system tables beside
them), starts its workers, waits until they listen, then enqueues every job in one
transaction. Jobs/s is the number of jobs over the time from the first dequeue to the last
completion (DBOS's own timestamps). An overlap is a step of a business's job that started
before the step of another job of that business had ended, by the steps' own start and
end times (DBOS records both, on this machine's clock): the step is where the sync's work
happens, so overlapping steps are two syncs of one business running at once (must be 0).
(A workflow's dequeue time is not fit for this: DBOS takes it before the claiming
transaction, which may wait behind the previous job's completion.) With the workers idle
afterwards, the database's committed transactions per second and the workers' CPU are
read over a few seconds: what polling costs when there is nothing to do. During the run,
the CPU per job of the workers and of the PostgreSQL backends serving the database, and
how busy the machine was, say whether the run was bound by CPU (two workers on two cores
shared with PostgreSQL and the load generator) rather than by the workers' own waits.

The default is 32 businesses: more busy at once than one worker serves, so a second
worker has work to take. With few businesses each one's chain of jobs (the next starts
only after the previous ended and a worker polled, ``jobs/queues.py``) bounds the
throughput whatever the number of workers: 8 businesses ran about 110 jobs/s with one
worker or two. The cores' ceiling printed last is the machine's own limit for two
workers: every core busy with nothing but the jobs, at the CPU a job costs the workers
and PostgreSQL together.

``--step-body`` measures instead, in this process, what the job's step does besides DBOS
(take a context, open the services, run the sync, evaluate the alert rules) with the
context borrowed from the process's, as workers now do, against a context built afresh
for each step (configuration, engine, schema check, telemetry sink), as they did before.

    nice -n 10 .venv/bin/python bench/worker_throughput.py \\
        [--database-url postgresql://...] [--businesses 32] [--jobs 40] [--poll 0.05]
        [--runs 3] [--workers 1,2] [--per-business] [--kinds ops,bare] [--logs DIR]
    nice -n 10 .venv/bin/python bench/worker_throughput.py --step-body [--runs 3]

The database URL defaults to MASTEROPS_BENCH_DATABASE_URL, then MASTEROPS_TEST_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, text

from masterops import __version__
from masterops.jobs.queues import SYNC_QUEUE, register_queues, sync_queue
from masterops.operations.jobs import APP_NAME, WORKFLOW_NAMES

OPS_WORKFLOW = WORKFLOW_NAMES["inventory"]
BARE_WORKFLOW = "bench.bare_sync"
#: What runs the jobs: the real workers, the bare workflow on the same queues, and the
#: bare workflow on one queue per business.
KINDS = ("bare", "ops", "bare-perbiz")
READY = "bench worker ready"


@dataclass(frozen=True)
class Outcome:
    kind: str
    workers: int
    jobs: int
    jobs_per_s: float
    overlaps: int
    failed: int
    #: Medians: a step's duration, and the wait between one step of a business and its
    #: next (the dispatch: polling, claiming, starting the workflow), in ms.
    step_ms: float
    gap_ms: float
    idle_xact_per_s: float
    idle_cpu_pct: float
    #: CPU per job during the run, in ms: the workers (all together), the PostgreSQL
    #: backends serving this database; and how busy the machine's cores were (%, of all).
    worker_cpu_ms: float = 0.0
    pg_cpu_ms: float = 0.0
    machine_busy_pct: float = 0.0


# -- the bare worker (a subprocess of this script) -----------------------------------------


def bare_worker(name: str, database_url: str, home: str, poll: str, kind: str) -> None:
    """A DBOS process running only the bare workflow: on the same queues as a worker
    (``bare``), or (``bare-perbiz``) with one queue per business polled every ``poll``
    seconds instead of the partitioned sync queue."""
    from dbos import DBOS

    from masterops.config import load_config
    from masterops.jobs.runtime import dbos_config

    @DBOS.step(name=f"{BARE_WORKFLOW}.run")
    def bare_step(business_id: str, full: bool) -> dict[str, Any]:
        return {"job": "inventory", "business_id": business_id, "status": "disabled"}

    @DBOS.workflow(name=BARE_WORKFLOW)
    def bare_sync(business_id: str, full: bool = False) -> dict[str, Any]:
        return bare_step(business_id, full)

    os.environ["MASTEROPS_DATABASE_URL"] = database_url
    os.chdir(home)
    config = load_config()
    DBOS(config=dbos_config(config, worker_name=name))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    DBOS.launch()
    register_queues(config.businesses)
    if kind == "bare-perbiz":
        for slug in config.businesses:
            DBOS.register_queue(
                sync_queue(slug), global_concurrency=1, polling_interval_sec=float(poll)
            )
    print(READY, flush=True)
    stop.wait()
    DBOS.destroy()


# -- one scenario ---------------------------------------------------------------------------


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def fresh_schema(base_url: str) -> Iterator[tuple[str, str]]:
    """A new schema for the platform tables and ``<schema>_dbos`` for DBOS's: yields the
    platform URL pinned to it and the system schema; both dropped on exit."""
    from masterops.db import migrate
    from masterops.db.engine import create_db_engine

    schema = f"wtb_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_psycopg(base_url))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base_url else "?"
    url = f"{base_url}{sep}options={quote(f'-csearch_path={schema}')}"
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url, f"{schema}_dbos"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}_dbos" CASCADE'))
        admin.dispose()


def write_config(home: Path, slugs: list[str]) -> dict[str, str]:
    """``masterops.toml`` with the bench's businesses (no services) and one business with
    Unleashed credentials it never uses (so the platform is not on the embedded sandbox);
    schedules daily, so none fires during the run. Returns the environment to add."""
    lines = [f'[businesses.{slug}]\nname = "Bench {slug}"\n' for slug in slugs]
    lines.append('[businesses.anchor]\nname = "Anchor"\nservices = ["unleashed"]\n')
    lines.append(
        "[schedules]\n"
        + "".join(
            f"{key} = 86400\n"
            for key in (
                "health_seconds",
                "inventory_seconds",
                "customers_seconds",
                "orders_seconds",
                "executions_seconds",
                "webhooks_seconds",
            )
        )
    )
    (home / "masterops.toml").write_text("\n".join(lines))
    return {
        "MASTEROPS_ANCHOR_UNLEASHED_API_ID": "bench-id",
        "MASTEROPS_ANCHOR_UNLEASHED_API_KEY": "bench-key",
        "MASTEROPS_ANCHOR_UNLEASHED_URL": "http://127.0.0.1:9",
    }


def start_workers(
    kind: str,
    count: int,
    url: str,
    home: Path,
    extra_env: dict[str, str],
    poll: float,
    logs: Path | None,
) -> list[subprocess.Popen[str]]:
    """``count`` workers of ``kind``, once each is ready; their stderr (DBOS's warnings:
    lock contention, polling backed off) goes to ``logs``/<kind>-<n>-w<i>.log if given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTEROPS_")}
    env.update(extra_env, MASTEROPS_DATABASE_URL=url, MASTEROPS_LOG_LEVEL="warn")
    procs: list[subprocess.Popen[str]] = []
    for i in range(count):
        if kind == "ops":
            args = [sys.executable, "-m", "masterops", "worker", "--name", f"w{i}", "--json"]
        else:
            script = str(Path(__file__).resolve())
            args = [sys.executable, script, "--bare-worker", f"w{i}", url, str(home)]
            args += [str(poll), kind]
        stderr: Any = subprocess.DEVNULL
        if logs is not None:
            stderr = (logs / f"{kind}-{count}-w{i}.log").open("a")
        procs.append(
            subprocess.Popen(
                args, cwd=home, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit(f"a {kind} worker ended before it was ready")
            # ``ops worker --json`` prints its schedules once running; the bare one READY.
            if line.rstrip() == "}" or line.strip() == READY:
                break
    return procs


def stop_workers(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def enqueue_all(system: Engine, schema: str, url: str, kind: str, slugs: list[str], n: int) -> int:
    """Every job, in one transaction: the workers see them all at once."""
    from dbos import DBOSClient, EnqueueOptions

    client = DBOSClient(
        system_database_url=url, dbos_system_schema=schema, application_name=APP_NAME
    )
    workflow = OPS_WORKFLOW if kind == "ops" else BARE_WORKFLOW
    try:
        with system.begin() as conn:
            for i in range(n):
                for slug in slugs:
                    options = EnqueueOptions(
                        workflow_name=workflow,
                        queue_name=SYNC_QUEUE,
                        queue_partition_key=slug,
                        workflow_id=f"bench-{slug}-{i:04d}",
                        app_version=__version__,
                    )
                    if kind == "bare-perbiz":
                        options["queue_name"] = sync_queue(slug)
                        del options["queue_partition_key"]
                    client.enqueue_in_transaction(conn, options, slug, False)
    finally:
        client.destroy()
    return n * len(slugs)


def wait_done(system: Engine, schema: str, total: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    query = text(
        f'SELECT count(*) FROM "{schema}".workflow_status '
        "WHERE workflow_uuid LIKE 'bench-%' AND status IN ('SUCCESS', 'ERROR')"
    )
    while time.monotonic() < deadline:
        with system.connect() as conn:
            if conn.execute(query).scalar_one() >= total:
                return
        time.sleep(0.2)
    raise SystemExit(f"the jobs did not finish within {timeout_s:.0f} s")


def throughput(system: Engine, schema: str) -> tuple[float, int, int, float, float]:
    """(jobs/s, overlaps, failed, median step ms, median gap ms) from DBOS's own
    timestamps (see the module docstring)."""
    with system.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT started_at_epoch_ms, completed_at, status "
                f"FROM \"{schema}\".workflow_status WHERE workflow_uuid LIKE 'bench-%'"
            )
        ).all()
        steps = conn.execute(
            text(
                f"SELECT coalesce(w.queue_partition_key, w.queue_name), "
                f"o.started_at_epoch_ms, o.completed_at_epoch_ms "
                f'FROM "{schema}".operation_outputs o '
                f'JOIN "{schema}".workflow_status w USING (workflow_uuid) '
                f"WHERE o.workflow_uuid LIKE 'bench-%'"
            )
        ).all()
    first = min(int(r[0]) for r in rows)
    last = max(int(r[1]) for r in rows)
    by_business: dict[str, list[tuple[int, int]]] = {}
    for business, started, completed in steps:
        by_business.setdefault(str(business), []).append((int(started), int(completed)))
    overlaps = 0
    gaps: list[int] = []
    for spans in by_business.values():
        spans.sort()
        for (_s0, end), (start, _e1) in itertools.pairwise(spans):
            overlaps += start < end
            gaps.append(start - end)
    failed = sum(1 for r in rows if r[2] != "SUCCESS")
    step_ms = statistics.median(int(c) - int(s) for _b, s, c in steps)
    per_s = len(rows) / max((last - first) / 1000, 1e-3)
    return per_s, overlaps, failed, step_ms, statistics.median(gaps)


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of every core since boot (``/proc/stat``)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


@dataclass(frozen=True)
class CpuSnapshot:
    workers: float
    backends: dict[int, float]
    machine: tuple[int, int]


def cpu_snapshot(admin: Engine, database: str, procs: list[subprocess.Popen[str]]) -> CpuSnapshot:
    """The workers' CPU seconds, each PostgreSQL backend's serving ``database`` (this
    machine's server), and the machine's jiffies: where a run's CPU went."""
    with admin.connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
            {"d": database},
        ).scalars()
        backends = {}
        for pid in pids:
            try:
                backends[int(pid)] = _cpu_s(int(pid))
            except OSError:  # ended meanwhile, or another machine's server
                continue
    return CpuSnapshot(sum(_cpu_s(p.pid) for p in procs), backends, _machine_busy())


def cpu_per_job(before: CpuSnapshot, after: CpuSnapshot, jobs: int) -> tuple[float, float, float]:
    """(worker ms, PostgreSQL ms) per job and the machine's busy % between two snapshots;
    a backend started during the run counts from zero."""
    pg = sum(cpu - before.backends.get(pid, 0.0) for pid, cpu in after.backends.items())
    busy = after.machine[0] - before.machine[0]
    total = max(after.machine[1] - before.machine[1], 1)
    return (
        1000 * (after.workers - before.workers) / jobs,
        1000 * pg / jobs,
        100 * busy / total,
    )


def idle_cost(
    admin: Engine, database: str, procs: list[subprocess.Popen[str]], seconds: float
) -> tuple[float, float]:
    """Committed transactions/s on the database and the workers' CPU (% of one core, all
    workers together) while they have nothing to do."""
    query = text("SELECT xact_commit FROM pg_stat_database WHERE datname = :d")

    def commits() -> int:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            return int(conn.execute(query, {"d": database}).scalar_one())

    time.sleep(1.0)  # let the last completions settle
    c0, cpu0, t0 = commits(), sum(_cpu_s(p.pid) for p in procs), time.monotonic()
    time.sleep(seconds)
    c1, cpu1, t1 = commits(), sum(_cpu_s(p.pid) for p in procs), time.monotonic()
    return (c1 - c0) / (t1 - t0), 100 * (cpu1 - cpu0) / (t1 - t0)


def scenario(
    base_url: str,
    kind: str,
    workers: int,
    slugs: list[str],
    n: int,
    poll: float,
    logs: Path | None = None,
) -> Outcome:
    from sqlalchemy.engine import make_url

    database = str(make_url(base_url).database)
    with fresh_schema(base_url) as (url, schema), tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = write_config(home, slugs)
        procs = start_workers(kind, workers, url, home, env, poll, logs)
        system = create_engine(_psycopg(url))
        admin = create_engine(_psycopg(base_url))
        try:
            if poll != _default_poll() and kind != "bare-perbiz":
                _set_polling(url, schema, poll)
            before = cpu_snapshot(admin, database, procs)
            total = enqueue_all(system, schema, url, kind, slugs, n)
            wait_done(system, schema, total, timeout_s=60 + total / 2)
            worker_ms, pg_ms, busy = cpu_per_job(
                before, cpu_snapshot(admin, database, procs), total
            )
            per_s, overlaps, failed, step_ms, gap_ms = throughput(system, schema)
            xact, cpu = idle_cost(admin, database, procs, seconds=5.0)
        finally:
            stop_workers(procs)
            system.dispose()
            admin.dispose()
    return Outcome(
        kind,
        workers,
        total,
        per_s,
        overlaps,
        failed,
        step_ms,
        gap_ms,
        xact,
        cpu,
        worker_ms,
        pg_ms,
        busy,
    )


def _default_poll() -> float:
    from masterops.jobs.queues import SYNC_POLLING_S

    return SYNC_POLLING_S


def _set_polling(url: str, schema: str, poll: float) -> None:
    """Another polling interval for the sync queue; each worker rereads it at its next
    poll."""
    from dbos import DBOSClient

    client = DBOSClient(
        system_database_url=url, dbos_system_schema=schema, application_name=APP_NAME
    )
    try:
        client.register_queue(
            SYNC_QUEUE,
            partition_concurrency=1,
            polling_interval_sec=poll,
            on_conflict="always_update",
        )
    finally:
        client.destroy()
    time.sleep(max(1.5, 1.5 * _default_poll()))  # every worker past its current wait


# -- the step's own cost: a reused context against a fresh one ---------------------------


def step_body(base_url: str, runs: int, steps: int = 20) -> None:
    import asyncio

    from masterops.config import load_config
    from masterops.operations.alerts import alerts_after_job
    from masterops.operations.context import AppContext
    from masterops.operations.sync import run_sync

    with fresh_schema(base_url) as (url, _schema), tempfile.TemporaryDirectory() as tmp:
        os.environ.update(write_config(Path(tmp), ["b01"]), MASTEROPS_DATABASE_URL=url)
        os.chdir(tmp)
        process = AppContext(config=load_config())
        process.database()

        def one(fresh: bool) -> None:
            ctx = AppContext() if fresh else process.step_context()
            try:
                engine = ctx.database()
                with ctx.services() as services:
                    business = services.config.business("b01")
                    asyncio.run(run_sync("inventory", services, engine, [business], full=False))
                    asyncio.run(alerts_after_job(ctx.config, engine, ctx.hub, job="sync inventory"))
            finally:
                ctx.close()

        one(False)
        one(True)
        times: dict[bool, list[float]] = {False: [], True: []}
        try:
            for _ in range(runs):
                for fresh in (False, True):
                    started = time.perf_counter()
                    for _ in range(steps):
                        one(fresh)
                    times[fresh].append((time.perf_counter() - started) / steps * 1000)
        finally:
            process.close()
    reused_ms, fresh_ms = statistics.median(times[False]), statistics.median(times[True])
    print(f"step body, {runs} run(s) of {steps} steps; 2 shared cores, loaded machine")
    print(f"reused context: {min(times[False]):.1f} / {reused_ms:.1f} ms (min / median)")
    print(
        f" fresh context: {min(times[True]):.1f} / {fresh_ms:.1f} ms  x{fresh_ms / reused_ms:.2f}"
    )


# -- the report ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--businesses", type=int, default=32)
    parser.add_argument("--jobs", type=int, default=40, help="jobs per business")
    parser.add_argument("--poll", type=float, default=_default_poll(), help="queue polling, s")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2", help="worker counts to measure")
    parser.add_argument("--per-business", action="store_true", help="also bare-perbiz")
    parser.add_argument("--step-body", action="store_true", help="the step's own cost only")
    parser.add_argument("--kinds", default=None, help="comma-separated subset of KINDS")
    parser.add_argument("--logs", type=Path, default=None, help="keep workers' stderr here")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--bare-worker", nargs=5, metavar=("NAME", "URL", "HOME", "POLL", "KIND"))
    args = parser.parse_args()
    if args.bare_worker:
        bare_worker(*args.bare_worker)
        return
    base_url = (
        args.database_url
        or os.environ.get("MASTEROPS_BENCH_DATABASE_URL")
        or os.environ.get("MASTEROPS_TEST_DATABASE_URL")
    )
    if not base_url or not base_url.startswith("postgresql"):
        raise SystemExit(
            "a PostgreSQL URL is needed: --database-url or MASTEROPS_BENCH_DATABASE_URL"
        )
    if args.step_body:
        step_body(base_url, args.runs)
        return
    # A stopped bench still stops its workers and drops its schemas.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    slugs = [f"b{i:02d}" for i in range(1, args.businesses + 1)]
    kinds = KINDS if args.per_business else KINDS[:2]
    if args.kinds:
        kinds = tuple(k for k in args.kinds.split(",") if k in KINDS)
    if args.logs is not None:
        args.logs.mkdir(parents=True, exist_ok=True)
    counts = [int(c) for c in args.workers.split(",")]
    outcomes: list[Outcome] = []
    for run in range(args.runs):
        for workers in counts:
            for kind in kinds:
                outcome = scenario(base_url, kind, workers, slugs, args.jobs, args.poll, args.logs)
                outcomes.append(outcome)
                print(f"run {run + 1}: {_line(outcome)}", file=sys.stderr, flush=True)
    summary = _summary(outcomes, counts, kinds)
    if args.json:
        print(json.dumps({"poll_s": args.poll, "businesses": args.businesses, **summary}, indent=2))
        return
    print(
        f"{args.businesses} businesses x {args.jobs} jobs, queue polling {args.poll} s, "
        f"{args.runs} run(s); 2 shared cores, loaded machine: min / median"
    )
    for row in summary["rows"]:
        print(
            f"{row['kind']:>9} x{row['workers']}: {row['min']:7.1f} / {row['median']:7.1f} jobs/s"
            f"  vs bare {_times(row['ratio_to_bare'])}  overlaps {row['overlaps']}"
            f"  failed {row['failed']}  step {row['step_ms']:.0f} ms  gap {row['gap_ms']:.0f} ms"
            f"  idle {row['idle_xact_per_s']:.0f} xact/s"
            f" {row['idle_cpu_pct']:.0f}% cpu"
            f"  cpu/job: workers {row['worker_cpu_ms']:.1f} ms, postgres {row['pg_cpu_ms']:.1f} ms"
            f"  machine {row['machine_busy_pct']:.0f}% busy"
        )
    for kind, ratio in summary["scaling"].items():
        print(f"{kind}: two workers / one (medians) x{ratio:.2f}", end="")
        ceiling = summary["ceilings"].get(kind)
        if ceiling:
            cores, per_job = ceiling["cores"], ceiling["cpu_per_job_ms"]
            rate, times = ceiling["jobs_per_s"], ceiling["vs_one_worker"]
            print(
                f"; the cores' ceiling: {cores} cores / {per_job:.1f} ms of CPU per job"
                f" = {rate:.0f} jobs/s = x{times:.2f} one worker",
                end="",
            )
        print()


def _times(ratio: float | None) -> str:
    return "-" if ratio is None else f"x{ratio:.2f}"


def _line(o: Outcome) -> str:
    return (
        f"{o.kind} x{o.workers}: {o.jobs} jobs, {o.jobs_per_s:.1f}/s, overlaps {o.overlaps}, "
        f"failed {o.failed}, step {o.step_ms:.0f} ms, gap {o.gap_ms:.0f} ms, "
        f"idle {o.idle_xact_per_s:.0f} xact/s {o.idle_cpu_pct:.0f}% cpu, "
        f"cpu/job: workers {o.worker_cpu_ms:.1f} ms, postgres {o.pg_cpu_ms:.1f} ms, "
        f"machine {o.machine_busy_pct:.0f}% busy"
    )


def _summary(outcomes: list[Outcome], counts: list[int], kinds: tuple[str, ...]) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    medians: dict[tuple[str, int], float] = {}
    for workers in counts:
        for kind in kinds:
            mine = [o for o in outcomes if o.kind == kind and o.workers == workers]
            rates = [o.jobs_per_s for o in mine]
            medians[(kind, workers)] = statistics.median(rates)
            rows.append(
                {
                    "kind": kind,
                    "workers": workers,
                    "min": min(rates),
                    "median": statistics.median(rates),
                    "runs": rates,
                    "overlaps": sum(o.overlaps for o in mine),
                    "failed": sum(o.failed for o in mine),
                    "step_ms": statistics.median(o.step_ms for o in mine),
                    "gap_ms": statistics.median(o.gap_ms for o in mine),
                    "idle_xact_per_s": statistics.median(o.idle_xact_per_s for o in mine),
                    "idle_cpu_pct": statistics.median(o.idle_cpu_pct for o in mine),
                    "worker_cpu_ms": statistics.median(o.worker_cpu_ms for o in mine),
                    "pg_cpu_ms": statistics.median(o.pg_cpu_ms for o in mine),
                    "machine_busy_pct": statistics.median(o.machine_busy_pct for o in mine),
                }
            )
    for row in rows:
        bare = medians.get(("bare", row["workers"]))
        row["ratio_to_bare"] = row["median"] / bare if bare else None
    scaling = {}
    ceilings = {}
    if 1 in counts and 2 in counts:
        scaling = {k: medians[(k, 2)] / medians[(k, 1)] for k in kinds}
        cores = os.cpu_count() or 1
        for row in rows:
            if row["workers"] == 2:
                # What every core busy with nothing but these jobs would run: the CPU a job
                # costs the workers and PostgreSQL together, however the jobs are dispatched.
                per_job_ms = row["worker_cpu_ms"] + row["pg_cpu_ms"]
                jobs_per_s = cores * 1000 / per_job_ms if per_job_ms > 0 else 0.0
                ceilings[row["kind"]] = {
                    "cores": cores,
                    "cpu_per_job_ms": per_job_ms,
                    "jobs_per_s": jobs_per_s,
                    "vs_one_worker": jobs_per_s / medians[(row["kind"], 1)],
                }
    return {"rows": rows, "scaling": scaling, "ceilings": ceilings}


if __name__ == "__main__":
    main()
