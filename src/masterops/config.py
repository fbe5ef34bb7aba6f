"""Settings and the business registry: the only module that reads the environment.

Secrets (database URL, tokens, keys, passwords) come from the environment and
``.env``; the business registry, rate limits, schedules and alert rules come
from ``masterops.toml``. With no configuration at all the platform runs on an
embedded SQLite database in ``./.masterops/`` against the sandbox.

Per-business credentials are read from variables named after the business::

    MASTEROPS_<BUSINESS>_HUBSPOT_TOKEN, MASTEROPS_<BUSINESS>_HUBSPOT_TIER
      (and MASTEROPS_<BUSINESS>_HUBSPOT_URL, default https://api.hubapi.com;
       MASTEROPS_<BUSINESS>_HUBSPOT_CLIENT_SECRET and _HUBSPOT_PORTAL_ID for webhooks)
    MASTEROPS_<BUSINESS>_UNLEASHED_API_ID, MASTEROPS_<BUSINESS>_UNLEASHED_API_KEY
      (and MASTEROPS_<BUSINESS>_UNLEASHED_URL, default https://api.unleashedsoftware.com)
    MASTEROPS_<BUSINESS>_N8N_URL, MASTEROPS_<BUSINESS>_N8N_API_KEY
      (falling back to MASTEROPS_N8N_URL / MASTEROPS_N8N_API_KEY, one n8n for all)
    MASTEROPS_<BUSINESS>_ORDER_WEBHOOK_SECRET
      (signs the business's order webhook, ``POST /webhooks/orders/<business>``)
"""

from __future__ import annotations

import difflib
import io
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from dotenv.parser import parse_stream
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

SERVICES = ("hubspot", "unleashed", "n8n")
HUBSPOT_TIERS = {
    "starter": 100,
    "free": 100,
    "professional": 190,
    "enterprise": 190,
    "limit_pack": 250,
}
LOG_LEVELS = ("debug", "info", "warn", "error")
DEFAULT_BUSINESSES: tuple[tuple[str, str], ...] = (
    ("teelixir", "Teelixir"),
    ("elevate", "Elevate Wholesale"),
    ("boo", "Buy Organics Online"),
    ("rhf", "Red Hill Fresh"),
)
#: How a business's Unleashed customers appear in HubSpot: wholesale businesses sell to
#: shops, so their customers are companies (with contacts and deals associated); retail
#: businesses sell to people, so their customers are contacts only.
CustomersAs = Literal["companies", "contacts"]
#: ``customers_as`` of a business whose ``masterops.toml`` entry does not say.
WHOLESALE_BUSINESSES = frozenset({"teelixir", "elevate"})
#: The time zone of a business whose entry does not name one: the four businesses trade
#: from Victoria, so their day (reports, their 07:00) is Melbourne's.
DEFAULT_TIMEZONE = "Australia/Melbourne"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(Exception):
    """Configuration that cannot be used; the message names the variable or key to fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusinessEntry(_Strict):
    name: str | None = None  # the known businesses' own names, else the slug
    services: tuple[str, ...] = SERVICES
    hubspot_tier: str = "starter"
    enabled: bool = True
    #: None: "companies" for the wholesale businesses (``WHOLESALE_BUSINESSES``), else
    #: "contacts".
    customers_as: CustomersAs | None = None
    #: An IANA zone name: the business's local day for reports and their schedule.
    timezone: str = DEFAULT_TIMEZONE

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone_name(value)

    @field_validator("services")
    @classmethod
    def _known_services(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(SERVICES))
        if unknown:
            raise ValueError(f"unknown service(s) {unknown}; known: {list(SERVICES)}")
        return value

    @field_validator("hubspot_tier")
    @classmethod
    def _known_tier(cls, value: str) -> str:
        if value not in HUBSPOT_TIERS:
            raise ValueError(f"unknown HubSpot tier {value!r}; known: {sorted(HUBSPOT_TIERS)}")
        return value


class RetryLimits(_Strict):
    max_attempts: int = Field(5, ge=1, le=20)
    base_delay_s: float = Field(0.5, gt=0)
    max_delay_s: float = Field(30.0, gt=0)
    deadline_s: float = Field(120.0, gt=0)


class BreakerLimits(_Strict):
    failure_threshold: int = Field(5, ge=1)
    cooldown_s: float = Field(30.0, gt=0)
    probes_to_close: int = Field(1, ge=1)


class DatabaseLimits(_Strict):
    """How long the platform waits on its own database (PostgreSQL; SQLite waits at most
    its 30 s busy timeout for a lock and cannot otherwise stop answering)."""

    #: The server cancels a statement running longer than this.
    statement_timeout_s: float = Field(60.0, gt=0)
    #: The client gives up on a connection that has not answered for this long (a server
    #: or network that stopped answering, where no statement timeout can arrive) and
    #: drops it. Longer than the statement timeout, so the server's own error comes first.
    response_timeout_s: float = Field(90.0, gt=0)
    #: TCP keepalives: probe an idle connection after this long, every interval, and
    #: drop it after this many unanswered probes (a dead peer behind a NAT or a pooler).
    keepalives_idle_s: int = Field(30, ge=1)
    keepalives_interval_s: int = Field(10, ge=1)
    keepalives_count: int = Field(3, ge=1)

    @model_validator(mode="after")
    def _response_after_statement(self) -> DatabaseLimits:
        if self.response_timeout_s <= self.statement_timeout_s:
            raise ValueError(
                "response_timeout_s must be longer than statement_timeout_s "
                f"({self.response_timeout_s} <= {self.statement_timeout_s})"
            )
        return self


class Limits(_Strict):
    hubspot_search_per_second: int = Field(5, ge=1)
    unleashed_monthly_ceiling: int = Field(15_000, ge=1)
    n8n_per_second: int = Field(20, ge=1)
    timeout_s: float = Field(30.0, gt=0)
    connect_timeout_s: float = Field(10.0, gt=0)
    degraded_latency_ms: float = Field(2_000.0, gt=0)
    # `ops test`: the whole diagnosis of one business answers within this (one attempt per
    # call, no breaker wait), so an unreachable service is reported in seconds.
    diagnosis_timeout_s: float = Field(5.0, gt=0, le=300)
    # Records per Unleashed page a sync asks for (the API allows 1000 at most). Each page
    # is committed with its progress: a sync killed mid-run resumes after the last one.
    unleashed_page_size: int = Field(1000, ge=1, le=1000)
    retry: RetryLimits = RetryLimits()
    breaker: BreakerLimits = BreakerLimits()
    database: DatabaseLimits = DatabaseLimits()


#: The jobs a ``[schedules.cron]`` entry may name (``jobs.schedules`` runs them).
CRON_JOBS = ("health", "inventory", "customers", "orders", "executions", "webhooks")
CronJob = Literal["health", "inventory", "customers", "orders", "executions", "webhooks"]


def cron_expression(value: str) -> str:
    """A cron expression as the scheduler takes it: six fields, seconds first. Five fields
    (the crontab form, minutes first) fire at second 0. ValueError names what is wrong."""
    from croniter import croniter

    fields = value.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise ValueError(
            f"cron expression {value!r} has {len(value.split())} fields; "
            "give 5 (minute hour day month weekday) or 6 (second first)"
        )
    expression = " ".join(fields)
    if not croniter.is_valid(expression, second_at_beginning=True):
        raise ValueError(f"cron expression {value!r} is not valid")
    return expression


def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as 'Australia/Melbourne'"
        ) from None
    return value


class Schedules(_Strict):
    health_seconds: int = Field(300, ge=10)
    inventory_seconds: int = Field(900, ge=60)
    customers_seconds: int = Field(3600, ge=60)
    orders_seconds: int = Field(900, ge=60)
    executions_seconds: int = Field(600, ge=60)
    webhooks_seconds: int = Field(60, ge=10)
    # ``[schedules.cron]``: a cron expression that replaces a job's interval, e.g.
    # inventory = "*/15 6-22 * * *" (every 15 minutes from 06:00 to 22:45). Evaluated in
    # ``timezone``, so business hours stay business hours across daylight saving.
    cron: dict[CronJob, str] = Field(default_factory=dict)
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron_expressions(cls, value: dict[CronJob, str]) -> dict[CronJob, str]:
        return {job: cron_expression(expr) for job, expr in value.items()}

    @field_validator("timezone")
    @classmethod
    def _schedule_zone(cls, value: str) -> str:
        return _zone_name(value)

    def period_s(self, job: CronJob) -> int:
        """The longest wait between two runs of ``job``: its interval, or the longest gap
        of its cron expression (what "stale after 3 x its schedule" must measure)."""
        expression = self.cron.get(job)
        if expression is None:
            return int(getattr(self, f"{job}_seconds"))
        return longest_gap_s(expression, self.timezone)


def longest_gap_s(expression: str, timezone: str, *, horizon_days: int = 8) -> int:
    """The longest time between two consecutive fires of a six-field cron expression in
    ``timezone`` over the next ``horizon_days`` (a week and a day: weekday patterns and a
    daylight-saving change show). Stops after 5,000 fires: a schedule that fires that often
    has its longest gap among them unless it is very irregular."""
    from datetime import UTC, datetime, timedelta

    from croniter import croniter

    start = datetime.now(UTC).astimezone(ZoneInfo(timezone))
    fires = croniter(expression, start, second_at_beginning=True)
    previous = fires.get_next(datetime)
    end = previous + timedelta(days=horizon_days)
    longest = 0.0
    for _ in range(5_000):
        current = fires.get_next(datetime)
        longest = max(longest, (current - previous).total_seconds())
        if current > end:
            break
        previous = current
    return max(1, round(longest))


class Retention(_Strict):
    """``[retention]``: what the housekeeping job deletes, and when it runs."""

    enabled: bool = True
    # Log tables (integration_logs, api_metrics, ...): the policy of ``ops db prune``;
    # the same floor as its --force, so a typo cannot empty the logs.
    logs_days: int = Field(30, ge=7)
    # Finished jobs in DBOS's system tables (workflow status, step outputs); pending and
    # running jobs are never deleted.
    job_history_days: int = Field(14, ge=1)
    # When, in ``[schedules] timezone``; five fields or six (seconds first).
    schedule: str = Field("30 3 * * *", validate_default=True)

    @field_validator("schedule")
    @classmethod
    def _schedule_cron(cls, value: str) -> str:
        return cron_expression(value)


AlertChannelName = Literal["log", "slack", "email", "webhook"]


class AlertRoute(_Strict):
    """``[[alerts.routes]]``: alerts about these businesses at these severities go to these
    channels (and, by email, to these recipients). An empty list matches everything."""

    business: tuple[str, ...] = ()
    severity: tuple[Literal["degraded", "down"], ...] = ()
    channels: tuple[AlertChannelName, ...] = Field(min_length=1)
    email_to: tuple[str, ...] = ()


class AlertRules(_Strict):
    channels: tuple[AlertChannelName, ...] = ("log",)
    min_level: Literal["degraded", "down"] = "degraded"
    cooldown_s: int = Field(900, ge=0)
    retry_backoff_s: int = Field(60, ge=1, le=3600)
    sync_refused_items: int = Field(1, ge=1)
    stale_after_schedules: float = Field(3.0, ge=1.0)
    webhook_failed_window_s: int = Field(86400, ge=60)
    email_to: tuple[str, ...] = ()
    # Error rate per (business, service) over the last ``error_rate_window_s`` of
    # api_metrics: degraded above ``error_rate_percent`` once ``error_rate_min_calls`` calls.
    error_rate_percent: float = Field(20.0, gt=0, le=100)
    error_rate_min_calls: int = Field(20, ge=1)
    error_rate_window_s: int = Field(900, ge=60)
    # Share of a quota used (HubSpot's daily allowance, Unleashed's monthly ceiling):
    # degraded from the first, down from the second.
    quota_warn_percent: float = Field(80.0, gt=0, lt=100)
    quota_critical_percent: float = Field(95.0, gt=0, le=100)
    # A circuit breaker that health rounds have seen open for this long.
    breaker_open_minutes: int = Field(15, ge=1)
    # A secret unchanged for longer than this (``ops secrets check`` records when each
    # changed): degraded, time to rotate. An API token expiring within the second: degraded.
    secret_max_age_days: int = Field(180, ge=1)
    token_expiry_warn_days: int = Field(14, ge=1)
    # No worker heartbeat for this long; alerted only once a worker has been seen, or
    # always with ``expect_worker``.
    worker_missing_minutes: int = Field(5, ge=2)
    expect_worker: bool = False
    # Routes, in addition to ``channels`` (which serve an alert no route matches).
    routes: tuple[AlertRoute, ...] = ()

    @model_validator(mode="after")
    def _critical_above_warning(self) -> AlertRules:
        if self.quota_critical_percent <= self.quota_warn_percent:
            raise ValueError(
                "quota_critical_percent must be above quota_warn_percent "
                f"({self.quota_critical_percent} <= {self.quota_warn_percent})"
            )
        return self


class SloObjective(_Strict):
    """One service's objectives: the share of its API calls that succeed, and the share
    that answer within ``latency_ms`` (read from the rollups' histogram, whose bucket
    bounds are 10 % apart: a call counts as fast when its whole bucket is under it)."""

    availability_percent: float = Field(99.5, gt=0, lt=100)
    latency_ms: float = Field(1000.0, gt=0)
    latency_percent: float = Field(95.0, gt=0, lt=100)


class SloSettings(_Strict):
    """``[slo]``: objectives per service (``[slo.services.hubspot]`` overrides ``default``),
    the window the error budget covers, and the burn rates that alert (both must be
    exceeded: the fast 1 h one, confirmed by the 6 h one)."""

    default: SloObjective = SloObjective()
    services: dict[str, SloObjective] = Field(default_factory=dict)
    window_days: int = Field(30, ge=1, le=90)
    burn_alert_1h: float = Field(14.4, gt=0)
    burn_alert_6h: float = Field(6.0, gt=0)
    #: Fewer calls than this in the last hour: too few to judge, no burn alert.
    min_calls: int = Field(20, ge=1)

    def objective(self, service: str) -> SloObjective:
        return self.services.get(service, self.default)


class ReportSettings(_Strict):
    """``[reports]``: what the daily and weekly reports show and when they are sent."""

    #: A product whose available quantity (all warehouses) is below this is "low stock".
    low_stock_threshold: float = Field(10.0, ge=0)
    top_products: int = Field(5, ge=1, le=50)
    #: Where ``--send`` and the schedule email the report (SMTP as for alert emails).
    email_to: tuple[str, ...] = ()
    #: Also post a summary to the Slack webhook the alerts use (when it is set).
    slack: bool = True
    #: The scheduled reports: local time of each business, "HH:MM".
    daily_at: str = "07:00"
    weekly_on: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"
    #: Scheduled sending on or off (``ops worker`` applies it).
    scheduled: bool = True

    @field_validator("daily_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hours, sep, minutes = value.partition(":")
        if not (
            sep
            and hours.isdigit()
            and minutes.isdigit()
            and len(minutes) == 2
            and 0 <= int(hours) <= 23
            and 0 <= int(minutes) <= 59
        ):
            raise ValueError(f"{value!r} is not a time of day; use HH:MM, e.g. '07:00'")
        return f"{int(hours):02d}:{minutes}"


class WorkerSettings(_Strict):
    """``[workers]``: how workers say they are alive and when a live one takes over the
    jobs of a silent one (``jobs/takeover.py``)."""

    #: How often each ``ops worker`` refreshes its heartbeat and looks for silent workers.
    heartbeat_s: float = Field(15.0, gt=0, le=600)
    #: A worker whose heartbeat is older than this is presumed dead: a live worker
    #: recovers its pending jobs. Well above ``heartbeat_s``: a busy worker that is a
    #: beat late must not have its running jobs run twice.
    takeover_after_s: float = Field(120.0, gt=0)
    #: A worker evaluates the alert rules after a job at most this often (the jobs that
    #: end meanwhile share one evaluation, at most this long later: ``jobs/coalesce.py``);
    #: 0 evaluates them after every job.
    alerts_every_s: float = Field(2.0, ge=0, le=60)

    @model_validator(mode="after")
    def _takeover_after_several_beats(self) -> WorkerSettings:
        if self.takeover_after_s < 3 * self.heartbeat_s:
            raise ValueError(
                f"takeover_after_s ({self.takeover_after_s:g}) must be at least three "
                f"heartbeats (3 x heartbeat_s = {3 * self.heartbeat_s:g})"
            )
        return self


class DashboardSettings(_Strict):
    """``[dashboard]``: the one time zone every page shows times in (an IANA name)."""

    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone_name(value)


class FileConfig(_Strict):
    """The shape of ``masterops.toml``."""

    businesses: dict[str, BusinessEntry] = Field(
        default_factory=lambda: {
            slug: BusinessEntry(name=name) for slug, name in DEFAULT_BUSINESSES
        }
    )
    limits: Limits = Limits()
    schedules: Schedules = Schedules()
    alerts: AlertRules = AlertRules()
    reports: ReportSettings = ReportSettings()
    retention: Retention = Retention()
    slo: SloSettings = SloSettings()

    @model_validator(mode="after")
    def _routes_name_known_businesses(self) -> FileConfig:
        known = list(self.businesses)
        for index, route in enumerate(self.alerts.routes):
            for slug in route.business:
                if slug not in self.businesses:
                    close = difflib.get_close_matches(slug, known, n=1)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    raise ValueError(
                        f"alerts.routes.{index}.business: unknown business {slug!r}; "
                        f"{hint}known: {', '.join(known)}"
                    )
        return self

    dashboard: DashboardSettings = DashboardSettings()
    workers: WorkerSettings = WorkerSettings()


@dataclass(frozen=True)
class HubSpotCredentials:
    token: SecretStr
    tier: str
    base_url: str = "https://api.hubapi.com"
    # The app's client secret signs webhook deliveries (v3); the portal id tells which
    # business an event belongs to. Both are only needed by `ops serve`.
    client_secret: SecretStr | None = None
    portal_id: int | None = None

    @property
    def per_ten_seconds(self) -> int:
        return HUBSPOT_TIERS[self.tier]


@dataclass(frozen=True)
class UnleashedCredentials:
    api_id: str
    api_key: SecretStr
    base_url: str = "https://api.unleashedsoftware.com"


@dataclass(frozen=True)
class N8nCredentials:
    url: str
    api_key: SecretStr


@dataclass(frozen=True)
class Business:
    """One business, with the credentials of each service it uses.

    A service the business uses but has no credentials for is disabled, and
    ``disabled[service]`` says which variable enables it.
    """

    slug: str
    name: str
    services: tuple[str, ...]
    hubspot: HubSpotCredentials | None = None
    unleashed: UnleashedCredentials | None = None
    n8n: N8nCredentials | None = None
    disabled: dict[str, str] = field(default_factory=dict)
    customers_as: CustomersAs = "contacts"
    timezone: str = DEFAULT_TIMEZONE
    # The HMAC key of the business's own order webhook; only `ops serve` needs it.
    order_webhook_secret: SecretStr | None = None
    # The key a rotation replaced, accepted beside the new one until it retires.
    order_webhook_retiring: RetiringSecret | None = None


@dataclass(frozen=True)
class RetiringSecret:
    """A secret replaced by a rotation, still accepted until ``until`` (aware)."""

    value: SecretStr
    until: datetime


#: What a configured secret is: its format is checked by ``ops secrets check``.
SecretKind = Literal[
    "database_password",
    "hubspot_token",
    "hubspot_client_secret",
    "unleashed_api_id",
    "unleashed_api_key",
    "n8n_api_key",
    "order_webhook_secret",
    "previous_secret",
    "slack_webhook_url",
    "alert_webhook_url",
    "alert_webhook_secret",
    "smtp_password",
    "supabase_key",
]


@dataclass(frozen=True)
class SecretSource:
    """One secret as configured: the variable that holds it, what kind it is, the
    business it belongs to (None: the platform's), and the value."""

    variable: str
    kind: SecretKind
    business: str | None
    value: SecretStr


@dataclass(frozen=True)
class Config:
    """The effective configuration of one process."""

    home: Path
    database_url: SecretStr
    database_is_default: bool
    config_file: Path | None
    businesses: dict[str, Business]
    limits: Limits
    schedules: Schedules
    alerts: AlertRules
    log_json: bool = False
    log_level: str = "info"
    slack_webhook_url: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    alert_webhook_url: SecretStr | None = None
    alert_webhook_secret: SecretStr | None = None
    supabase_url: str | None = None
    supabase_key: SecretStr | None = None
    problems: tuple[str, ...] = ()
    reports: ReportSettings = field(default_factory=ReportSettings)
    # Every secret variable that is set (``ops secrets check``), and the .env file read.
    secret_sources: tuple[SecretSource, ...] = ()
    dotenv_file: Path | None = None
    slo: SloSettings = field(default_factory=SloSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    retention: Retention = field(default_factory=Retention)
    workers: WorkerSettings = field(default_factory=WorkerSettings)

    @property
    def sandbox(self) -> bool:
        """True when no business has a single service credential: run on the sandbox."""
        return not any(b.hubspot or b.unleashed or b.n8n for b in self.businesses.values())

    @property
    def sandbox_state(self) -> Path:
        """Where the embedded sandbox keeps its state between commands."""
        return self.home / "sandbox"

    def business(self, slug: str) -> Business:
        try:
            return self.businesses[slug]
        except KeyError:
            known = ", ".join(self.businesses) or "none"
            raise ConfigError(f"unknown business {slug!r}; known: {known}") from None

    def secrets(self) -> list[str]:
        """Every configured secret value, for redaction."""
        values: list[SecretStr | None] = [
            self.database_url if _url_has_password(self.database_url) else None,
            self.slack_webhook_url,
            self.alert_webhook_url,
            self.alert_webhook_secret,
            self.smtp_password,
            self.supabase_key,
        ]
        for b in self.businesses.values():
            values += [
                b.hubspot.token if b.hubspot else None,
                b.hubspot.client_secret if b.hubspot else None,
                b.unleashed.api_key if b.unleashed else None,
                b.n8n.api_key if b.n8n else None,
                b.order_webhook_secret,
                b.order_webhook_retiring.value if b.order_webhook_retiring else None,
            ]
        secrets = [v.get_secret_value() for v in values if v is not None]
        password = _url_password(self.database_url.get_secret_value())
        if password:
            secrets.append(password)
        return [s for s in secrets if len(s) >= 4]


def _raw_url_password(url: str) -> str | None:
    """The password as written in ``url`` (still percent-encoded). The standard library
    parses it: SQLAlchemy here would load it for every command, `ops --help` too."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _url_password(url: str) -> str | None:
    raw = _raw_url_password(url)
    return None if raw is None else unquote(raw)


def _url_has_password(url: SecretStr) -> bool:
    return _url_password(url.get_secret_value()) is not None


def mask_url(url: str) -> str:
    """A database URL with its password replaced by ***."""
    password = _raw_url_password(url)
    return url.replace(f":{password}@", ":***@") if password else url


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def load_config(
    environ: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
    config_file: Path | None = None,
) -> Config:
    """Read ``.env``, the environment and ``masterops.toml`` into one ``Config``.

    Problems that leave a usable configuration (a missing credential, an unknown
    tier in the environment, a line of ``.env`` that does not parse) are collected in
    ``Config.problems``; problems that do not (an unreadable TOML file, an invalid key,
    a bad log level, a state folder that cannot be written) raise ``ConfigError``.
    On the embedded default the state folder is created here.
    """
    cwd = cwd or Path.cwd()
    env: dict[str, str] = {}
    problems: list[str] = []
    dotenv_path = cwd / ".env"
    if dotenv_path.is_file():
        env.update(_read_dotenv(dotenv_path, problems))
    env.update(os.environ if environ is None else environ)
    # An empty variable is an unset one: `.env.example` copied as it is lists every
    # variable, blank, and must mean "the defaults", not "a folder named ''".
    env = {name: value for name, value in env.items() if value.strip()}

    home = Path(env.get("MASTEROPS_HOME", str(cwd / ".masterops")))
    file_path = config_file or Path(env.get("MASTEROPS_CONFIG", str(cwd / "masterops.toml")))
    file_config, used_file = _read_file_config(
        file_path, explicit=config_file is not None or "MASTEROPS_CONFIG" in env
    )

    db_url = env.get("MASTEROPS_DATABASE_URL") or env.get("DATABASE_URL")
    default_db = db_url is None
    if db_url is None:
        _prepare_home(home, explicit="MASTEROPS_HOME" in env)
        db_url = f"sqlite:///{home / 'masterops.db'}"
    log_level = _log_level(env.get("MASTEROPS_LOG_LEVEL", "info"))

    businesses = {
        slug: _business(slug, entry, env, problems)
        for slug, entry in file_config.businesses.items()
        if entry.enabled
    }
    smtp_port_text = env.get("MASTEROPS_SMTP_PORT", "587")
    try:
        smtp_port = int(smtp_port_text)
    except ValueError:
        raise ConfigError(f"MASTEROPS_SMTP_PORT must be a number, got {smtp_port_text!r}") from None
    if "email" in file_config.alerts.channels and not env.get("MASTEROPS_SMTP_HOST"):
        problems.append("alerts.channels has 'email' but MASTEROPS_SMTP_HOST is not set")
    if "slack" in file_config.alerts.channels and not env.get("MASTEROPS_SLACK_WEBHOOK_URL"):
        problems.append("alerts.channels has 'slack' but MASTEROPS_SLACK_WEBHOOK_URL is not set")
    if "webhook" in file_config.alerts.channels and not (
        env.get("MASTEROPS_ALERT_WEBHOOK_URL") and env.get("MASTEROPS_ALERT_WEBHOOK_SECRET")
    ):
        problems.append(
            "alerts.channels has 'webhook' but MASTEROPS_ALERT_WEBHOOK_URL and "
            "MASTEROPS_ALERT_WEBHOOK_SECRET are not both set"
        )
    for name in (
        "MASTEROPS_SLACK_WEBHOOK_URL",
        "MASTEROPS_ALERT_WEBHOOK_URL",
        "MASTEROPS_SUPABASE_URL",
    ):
        if not _check_url(name, env.get(name), problems):
            env.pop(name)  # refused: as if unset, so nothing is ever sent there
    secret_sources = _secret_sources(env, file_config)

    def secret(name: str) -> SecretStr | None:
        value = env.get(name)
        return SecretStr(value) if value else None

    return Config(
        home=home,
        database_url=SecretStr(db_url),
        database_is_default=default_db,
        config_file=file_path if used_file else None,
        businesses=businesses,
        limits=file_config.limits,
        schedules=file_config.schedules,
        alerts=file_config.alerts,
        log_json=_truthy(env.get("MASTEROPS_LOG_JSON")),
        log_level=log_level,
        slack_webhook_url=secret("MASTEROPS_SLACK_WEBHOOK_URL"),
        smtp_host=env.get("MASTEROPS_SMTP_HOST"),
        smtp_port=smtp_port,
        smtp_user=env.get("MASTEROPS_SMTP_USER"),
        smtp_password=secret("MASTEROPS_SMTP_PASSWORD"),
        smtp_from=env.get("MASTEROPS_SMTP_FROM"),
        alert_webhook_url=secret("MASTEROPS_ALERT_WEBHOOK_URL"),
        alert_webhook_secret=secret("MASTEROPS_ALERT_WEBHOOK_SECRET"),
        supabase_url=env.get("MASTEROPS_SUPABASE_URL"),
        supabase_key=secret("MASTEROPS_SUPABASE_KEY"),
        problems=tuple(dict.fromkeys(problems)),  # a shared setting is named once
        secret_sources=secret_sources,
        dotenv_file=dotenv_path if dotenv_path.is_file() else None,
        reports=file_config.reports,
        slo=file_config.slo,
        dashboard=file_config.dashboard,
        retention=file_config.retention,
        workers=file_config.workers,
    )


def _read_dotenv(path: Path, problems: list[str]) -> dict[str, str]:
    """The variables of a ``.env`` file; a line that is not ``NAME=value`` becomes a problem
    naming the file and line (never its text, which may hold a secret) and is skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    good: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            problems.append(
                f"{path} line {binding.original.line}: not NAME=value; "
                "fix or remove it (comments start with #)"
            )
        else:
            good.append(binding.original.string)
    # Only the lines that parse: python-dotenv would log its own message for the others.
    values = dotenv_values(stream=io.StringIO("".join(good)))
    return {k: v for k, v in values.items() if v is not None}


def _prepare_home(home: Path, *, explicit: bool) -> None:
    """Create the state folder the embedded database lives in, or ConfigError naming
    MASTEROPS_HOME and the fix (a file in the way, a folder that cannot be written)."""
    setting = f"MASTEROPS_HOME={home}" if explicit else f"the state folder {home}"
    fix = "point MASTEROPS_HOME at a writable folder (or set MASTEROPS_DATABASE_URL)"
    try:
        home.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(f"{setting}: a file is in the way of the folder; {fix}") from None
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise ConfigError(f"{setting} cannot be created ({reason}); {fix}") from None
    if not os.access(home, os.W_OK | os.X_OK):
        raise ConfigError(f"{setting} is not writable; {fix}")


def _log_level(text: str) -> str:
    level = text.strip().lower()
    level = "warn" if level == "warning" else level
    if level not in LOG_LEVELS:
        raise ConfigError(
            f"MASTEROPS_LOG_LEVEL={text!r} is not a level; use one of {', '.join(LOG_LEVELS)}"
        )
    return level


_LOOPBACK_NAMES = {"localhost"}


def _check_url(name: str, url: str | None, problems: list[str]) -> bool:
    """A service URL must be https://, or http:// to this machine only: over plain http
    a token or key would cross the network readable by anyone on the way. False when
    the URL is refused: the caller then never uses it (the service is disabled, the
    channel left unset), so no credential is ever sent over it."""
    if not url:
        return True
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(f"{name} must be a URL starting https:// (or http:// on loopback)")
        return False
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        problems.append(
            f"{name} is http://{parts.hostname}: refused, credentials would travel "
            "unencrypted; use https:// (http:// is for 127.0.0.1/localhost only)"
        )
        return False
    return True


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read_file_config(path: Path, *, explicit: bool) -> tuple[FileConfig, bool]:
    if not path.is_file():
        if explicit:
            raise ConfigError(f"configuration file {path} does not exist (MASTEROPS_CONFIG)")
        return FileConfig(), False
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        return FileConfig.model_validate(raw), True
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe_validation(exc)}") from None


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        if error["type"] == "extra_forbidden":
            parts.append(f"{where}: {_unknown_key(error['loc'])}")
        elif not where:  # a check of the whole file names its own key
            parts.append(error["msg"].removeprefix("Value error, "))
        else:
            parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    """ "unknown key", the nearest known key if one is close, and every key allowed there."""
    known = _keys_at(FileConfig, loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}known here: {', '.join(known)}"


def _keys_at(model: type[BaseModel], path: tuple[int | str, ...]) -> list[str]:
    """The keys the TOML table at ``path`` may hold (a dict level, e.g. a business slug,
    is passed through to its value model)."""
    current: Any = model
    for part in path:
        if get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is tuple:  # a list of tables, e.g. [[alerts.routes]]
            current = get_args(current)[0]
        elif isinstance(current, type) and issubclass(current, BaseModel):
            current = current.model_fields[str(part)].annotation
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _business(
    slug: str, entry: BusinessEntry, env: Mapping[str, str], problems: list[str]
) -> Business:
    prefix = f"MASTEROPS_{slug.upper().replace('-', '_')}_"
    disabled: dict[str, str] = {}
    hubspot = unleashed = n8n = None

    if "hubspot" in entry.services:
        token = env.get(prefix + "HUBSPOT_TOKEN")
        tier = env.get(prefix + "HUBSPOT_TIER", entry.hubspot_tier).lower()
        if tier not in HUBSPOT_TIERS:
            problems.append(
                f"{prefix}HUBSPOT_TIER={tier!r} is not a tier; use one of {sorted(HUBSPOT_TIERS)}"
            )
            tier = entry.hubspot_tier
        client_secret = env.get(prefix + "HUBSPOT_CLIENT_SECRET")
        portal_text = env.get(prefix + "HUBSPOT_PORTAL_ID")
        portal_id = None
        if portal_text:
            try:
                portal_id = int(portal_text)
            except ValueError:
                problems.append(f"{prefix}HUBSPOT_PORTAL_ID must be a number, got {portal_text!r}")
        base = env.get(prefix + "HUBSPOT_URL", "https://api.hubapi.com")
        if token and not _check_url(prefix + "HUBSPOT_URL", base, problems):
            disabled["hubspot"] = f"{prefix}HUBSPOT_URL is refused (plain http:// off this machine)"
        elif token:
            hubspot = HubSpotCredentials(
                SecretStr(token),
                tier,
                base.rstrip("/"),
                SecretStr(client_secret) if client_secret else None,
                portal_id,
            )
        else:
            disabled["hubspot"] = f"set {prefix}HUBSPOT_TOKEN"
            # Without the token HubSpot is off for this business: whatever else is set for it
            # is ignored, and a client secret so ignored leaves its webhooks refused (503).
            ignored = [
                prefix + name
                for name in (
                    "HUBSPOT_TIER",
                    "HUBSPOT_CLIENT_SECRET",
                    "HUBSPOT_PORTAL_ID",
                    "HUBSPOT_URL",
                )
                if env.get(prefix + name)
            ]
            if ignored:
                ignoring = "it is" if len(ignored) == 1 else "they are"
                problems.append(
                    f"{', '.join(ignored)} set but {prefix}HUBSPOT_TOKEN is not: HubSpot is "
                    f"disabled for {slug}, so {ignoring} ignored; set the token too"
                )

    if "unleashed" in entry.services:
        api_id, api_key = (
            env.get(prefix + "UNLEASHED_API_ID"),
            env.get(prefix + "UNLEASHED_API_KEY"),
        )
        if api_id and api_key:
            base = env.get(prefix + "UNLEASHED_URL", "https://api.unleashedsoftware.com")
            if _check_url(prefix + "UNLEASHED_URL", base, problems):
                unleashed = UnleashedCredentials(api_id, SecretStr(api_key), base)
            else:
                disabled["unleashed"] = (
                    f"{prefix}UNLEASHED_URL is refused (plain http:// off this machine)"
                )
        else:
            missing = [
                n
                for n, v in (("UNLEASHED_API_ID", api_id), ("UNLEASHED_API_KEY", api_key))
                if not v
            ]
            disabled["unleashed"] = "set " + " and ".join(prefix + m for m in missing)
            if api_id or api_key:
                problems.append(
                    f"{slug}: Unleashed needs both {prefix}UNLEASHED_API_ID and "
                    f"{prefix}UNLEASHED_API_KEY"
                )

    if "n8n" in entry.services:
        url = env.get(prefix + "N8N_URL") or env.get("MASTEROPS_N8N_URL")
        key = env.get(prefix + "N8N_API_KEY") or env.get("MASTEROPS_N8N_API_KEY")
        if url and key:
            shared = not env.get(prefix + "N8N_URL")
            variable = "MASTEROPS_N8N_URL" if shared else prefix + "N8N_URL"
            if _check_url(variable, url, problems):
                n8n = N8nCredentials(url.rstrip("/"), SecretStr(key))
            else:
                disabled["n8n"] = f"{variable} is refused (plain http:// off this machine)"
        else:
            disabled["n8n"] = f"set {prefix}N8N_URL and {prefix}N8N_API_KEY (or MASTEROPS_N8N_*)"

    order_secret = env.get(prefix + "ORDER_WEBHOOK_SECRET")
    previous = _retiring_secret(prefix + "ORDER_WEBHOOK_SECRET", env, problems)
    return Business(
        slug=slug,
        name=entry.name or dict(DEFAULT_BUSINESSES).get(slug, slug),
        services=entry.services,
        hubspot=hubspot,
        unleashed=unleashed,
        n8n=n8n,
        disabled=disabled,
        customers_as=entry.customers_as
        or ("companies" if slug in WHOLESALE_BUSINESSES else "contacts"),
        timezone=entry.timezone,
        order_webhook_secret=SecretStr(order_secret) if order_secret else None,
        order_webhook_retiring=previous if order_secret else None,
    )


#: Per-business secret variables (after ``MASTEROPS_<BUSINESS>_``) and their kinds.
_BUSINESS_SECRETS: tuple[tuple[str, SecretKind], ...] = (
    ("HUBSPOT_TOKEN", "hubspot_token"),
    ("HUBSPOT_CLIENT_SECRET", "hubspot_client_secret"),
    ("UNLEASHED_API_ID", "unleashed_api_id"),
    ("UNLEASHED_API_KEY", "unleashed_api_key"),
    ("N8N_API_KEY", "n8n_api_key"),
    ("ORDER_WEBHOOK_SECRET", "order_webhook_secret"),
    ("ORDER_WEBHOOK_SECRET_PREVIOUS", "previous_secret"),
)
#: The platform's own secret variables and their kinds.
_PLATFORM_SECRETS: tuple[tuple[str, SecretKind], ...] = (
    ("MASTEROPS_N8N_API_KEY", "n8n_api_key"),
    ("MASTEROPS_SLACK_WEBHOOK_URL", "slack_webhook_url"),
    ("MASTEROPS_ALERT_WEBHOOK_URL", "alert_webhook_url"),
    ("MASTEROPS_ALERT_WEBHOOK_SECRET", "alert_webhook_secret"),
    ("MASTEROPS_SMTP_PASSWORD", "smtp_password"),
    ("MASTEROPS_SUPABASE_KEY", "supabase_key"),
)


def _secret_sources(env: Mapping[str, str], file_config: FileConfig) -> tuple[SecretSource, ...]:
    """Every secret variable that is set, in a stable order (see ``SecretSource``)."""
    found: list[SecretSource] = []
    url = env.get("MASTEROPS_DATABASE_URL") or env.get("DATABASE_URL")
    password = _url_password(url) if url else None
    if password:
        found.append(
            SecretSource("MASTEROPS_DATABASE_URL", "database_password", None, SecretStr(password))
        )
    for variable, kind in _PLATFORM_SECRETS:
        if env.get(variable):
            found.append(SecretSource(variable, kind, None, SecretStr(env[variable])))
    for slug in file_config.businesses:
        prefix = f"MASTEROPS_{slug.upper().replace('-', '_')}_"
        for suffix, kind in _BUSINESS_SECRETS:
            value = env.get(prefix + suffix)
            if value:
                found.append(SecretSource(prefix + suffix, kind, slug, SecretStr(value)))
    return tuple(found)


def _retiring_secret(
    variable: str, env: Mapping[str, str], problems: list[str]
) -> RetiringSecret | None:
    """``<variable>_PREVIOUS`` and ``<variable>_PREVIOUS_UNTIL``: the secret a rotation
    replaced (``ops secrets rotate``), still accepted until that time so that senders can
    switch over. Without a valid time it is not accepted at all."""
    value = env.get(variable + "_PREVIOUS")
    until_text = env.get(variable + "_PREVIOUS_UNTIL")
    if not value:
        return None
    try:
        until = datetime.fromisoformat(until_text or "")
    except ValueError:
        problems.append(
            f"{variable}_PREVIOUS is set but {variable}_PREVIOUS_UNTIL is not a time "
            "(e.g. 2026-12-31T09:00:00+00:00): the previous secret is not accepted"
        )
        return None
    if until.tzinfo is None:
        problems.append(f"{variable}_PREVIOUS_UNTIL needs a UTC offset (e.g. +00:00)")
        return None
    return RetiringSecret(SecretStr(value), until)
