"""``BaseConnector``: every call to a service goes through ``request()``.

One call = breaker admission -> a rate-limit token -> the HTTP attempt under a timeout that
really cancels -> learning from the rate-limit headers -> telemetry -> retry or raise one
``IntegrationError``. Subclasses (HubSpot, Unleashed, n8n) only say where the service is,
how to authenticate and how to probe it.
"""

from __future__ import annotations

import abc
import json as jsonlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self

import httpx

from masterops.integrations.base.breaker import BreakerSettings, CircuitBreaker, Outcome
from masterops.integrations.base.call_limit import CallLimit
from masterops.integrations.base.errors import IntegrationError
from masterops.integrations.base.health import (
    HealthResult,
    HealthSettings,
    note_failed_attempt,
    run_health_check,
)
from masterops.integrations.base.limiter import LimitSpec, TokenBucket
from masterops.integrations.base.retry import IDEMPOTENT_METHODS, RetryPolicy, decide
from masterops.integrations.base.runtime import ConnectorRuntime
from masterops.integrations.base.telemetry import (
    ConnectorTelemetry,
    RateLimitInfo,
    parse_rate_limit_headers,
    render_path,
)
from masterops.observability.redaction import Redactor


@dataclass(frozen=True, slots=True)
class Timeouts:
    """``connect`` and ``read`` go to httpx; ``total`` bounds one attempt end to end and is
    enforced by cancelling it, whatever the transport does."""

    connect: float = 5.0
    read: float = 30.0
    total: float = 30.0

    def for_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect, read=self.read, write=self.read, pool=self.connect
        )


@dataclass(slots=True)  # not frozen: built on every call, and frozen __init__ is slower
class _Call:
    """One logical call, as every attempt of it repeats it."""

    method: str
    url: str
    template: str
    operation: str
    params: Mapping[str, Any] | None
    json: Any
    content: bytes | None
    headers: Mapping[str, str] | None
    bucket: TokenBucket
    policy: RetryPolicy
    idempotent: bool
    expect_json: bool
    expected_statuses: frozenset[int] = frozenset()


class BaseConnector(abc.ABC):
    """An authenticated client of one service for one business.

    Subclasses set ``service`` (and usually ``default_limits``), pass ``base_url``, an
    ``httpx.Auth`` and their secrets to ``__init__``, and implement ``probe()``; they may
    override ``rate_limit_info()`` to read their service's own headers. An ``httpx.Auth``'s
    ``auth_flow`` sees the final request, query bytes included, on every attempt, which is
    where a signature over the query string belongs.

    Use as ``async with connector:`` or call ``aclose()``. Constructing one opens nothing.
    See the package docstring for a minimal subclass.
    """

    service: ClassVar[str]
    #: Rate-limit buckets by name; ``request(bucket=...)`` picks one.
    default_limits: ClassVar[Mapping[str, LimitSpec]] = {"default": LimitSpec(10, 1.0)}

    def __init__(
        self,
        *,
        business_id: str,
        runtime: ConnectorRuntime,
        base_url: str,
        auth: httpx.Auth | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        limits: Mapping[str, LimitSpec] | None = None,
        breaker: BreakerSettings | None = None,
        health: HealthSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        secrets: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        account: str | None = None,
    ) -> None:
        """``account`` keys the shared buckets and breaker (default: ``business_id``); give
        two businesses the same account when they share one service account. ``secrets``
        are masked in every message, detail and event."""
        if not getattr(type(self), "service", None):
            raise TypeError(f"{type(self).__name__} must set the class attribute 'service'")
        self.business_id = business_id
        self.account = account or business_id
        self.runtime = runtime
        self.timeouts = timeouts or Timeouts()
        self.retry_policy = retry or RetryPolicy()
        self.health_settings = health or HealthSettings()
        self.redactor = Redactor(secrets)
        self._call_limit: CallLimit | None = None  # set inside limited()
        specs = limits if limits is not None else self.default_limits
        self._buckets = {
            name: runtime.limiters.get(self.service, self.account, name, spec)
            for name, spec in specs.items()
        }
        self.breaker: CircuitBreaker = runtime.breakers.get(
            self.service, self.account, breaker or BreakerSettings()
        )
        self.telemetry = ConnectorTelemetry(
            runtime.hub,
            runtime.clock,
            service=self.service,
            business_id=business_id,
            redactor=self.redactor,
        )
        self._client = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            headers=headers,
            timeout=self.timeouts.for_httpx(),
            transport=transport,
            follow_redirects=False,
        )

    # -- what subclasses provide -------------------------------------------------------

    @abc.abstractmethod
    async def probe(self) -> Mapping[str, Any] | None:
        """One cheap authenticated call through ``self.request()`` proving the service
        works for this business; raise on failure. What it returns goes into the health
        result's details."""

    async def before_attempt(self, method: str, endpoint: str, operation: str) -> None:
        """Called once per attempt that is about to be sent (breaker admitted, token held).
        Raise an ``IntegrationError`` to stop the attempt unsent (e.g. a monthly quota)."""
        return None  # nothing to check by default

    def response_error(self, response: httpx.Response, error: IntegrationError) -> IntegrationError:
        """The error a non-2xx ``response`` becomes; override to reclassify what the
        service's own headers say (a quota block that no retry can cure)."""
        return error

    def rate_limit_info(self, response: httpx.Response) -> RateLimitInfo:
        """What ``response`` says about the rate limit. The default reads HubSpot's
        ``X-HubSpot-RateLimit-*``, ``X-RateLimit-*``, ``RateLimit-*`` and ``Retry-After``."""
        return parse_rate_limit_headers(response.headers, self.runtime.clock.now())

    # -- calling -----------------------------------------------------------------------

    def bucket(self, name: str = "default") -> TokenBucket:
        """The shared rate-limit bucket ``name`` of this connector's service and account."""
        try:
            return self._buckets[name]
        except KeyError:
            known = ", ".join(sorted(self._buckets)) or "none"
            raise ValueError(f"{self.service}: no rate-limit bucket {name!r} ({known})") from None

    async def request(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, object] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        operation: str,
        idempotent: bool | None = None,
        bucket: str = "default",
        retry: RetryPolicy | None = None,
        expect_json: bool = False,
        expected_statuses: Collection[int] = (),
    ) -> httpx.Response:
        """Call the service and return its 2xx response, or raise ``IntegrationError``.

        ``path`` is the endpoint template (``/crm/v3/objects/{type}/{id}``), filled from
        URL-quoted ``path_params``; only the template reaches telemetry. ``idempotent``
        defaults to True for GET/HEAD/PUT/DELETE/OPTIONS: pass True for a POST that is safe
        to repeat (an upsert, a call with an idempotency key) so it is retried after
        failures that may have reached the service. ``retry`` overrides the connector's
        policy for this call. With ``expect_json`` a 2xx whose body is neither empty nor valid
        JSON (cut short) is a failed, retryable attempt. ``expected_statuses`` are answers
        the caller looks for (a 404 when checking whether something exists): they still
        raise, but are recorded as successful attempts and logged at debug level, never
        counted as errors.
        """
        method = method.upper()
        call = _Call(
            method=method,
            url=render_path(path, path_params),
            template=path,
            operation=operation,
            params=params,
            json=json,
            content=content,
            headers=headers,
            bucket=self.bucket(bucket),
            policy=retry or self.retry_policy,
            idempotent=method in IDEMPOTENT_METHODS if idempotent is None else idempotent,
            expect_json=expect_json,
            expected_statuses=frozenset(expected_statuses),
        )
        return await self._run(call)

    @contextmanager
    def limited(self, seconds: float, *, attempts: int = 1) -> Iterator[CallLimit]:
        """Inside the block, every call of this connector makes at most ``attempts``
        attempts, ends within ``seconds`` from now (all calls together), and fails at once
        when the circuit breaker is open instead of waiting for it. For diagnosis, where
        the first failure and its cause matter more than getting through."""
        clock = self.runtime.clock
        previous = self._call_limit
        self._call_limit = CallLimit(clock.monotonic() + seconds, attempts, seconds)
        try:
            yield self._call_limit
        finally:
            self._call_limit = previous

    async def _run(self, call: _Call) -> httpx.Response:
        clock = self.runtime.clock
        started = clock.monotonic()
        policy = call.policy
        if self._call_limit is not None:
            if self._call_limit.remaining(started) <= 0:
                raise self._call_limit.expired(self.service, call.operation, call.template)
            policy = self._call_limit.narrow(policy, started)
        deadline = None if policy.deadline is None else started + policy.deadline
        attempt = 0
        while True:
            attempt += 1
            result = await self._attempt(call, deadline)
            if not isinstance(result, IntegrationError):
                return result
            expected = result.status in call.expected_statuses
            if not expected:  # an answer the caller looks for does not degrade a probe
                note_failed_attempt(result)
            elapsed = clock.monotonic() - started
            decision = decide(
                policy,
                result,
                attempt=attempt,
                idempotent=call.idempotent,
                elapsed=elapsed,
                rng=self.runtime.rng,
            )
            common = {"operation": call.operation, "endpoint": call.template, "method": call.method}
            if decision.delay is None:
                self.telemetry.failure(
                    **common, attempts=attempt, error=result, reason=decision.reason,
                    duration_ms=elapsed * 1000.0, expected=expected,
                )  # fmt: skip
                raise result
            self.telemetry.retry(
                **common, attempt=attempt, delay=decision.delay, error=result,
                reason=decision.reason,
            )  # fmt: skip
            await clock.sleep(decision.delay)

    async def _attempt(
        self, call: _Call, deadline: float | None
    ) -> httpx.Response | IntegrationError:
        """One attempt: the answer, or the error that ended it (returned, not raised)."""
        clock = self.runtime.clock
        admission = self.breaker.try_admit()
        if admission is None:
            return self.breaker.rejection(call.operation, call.template)
        outcome: Outcome = "neutral"  # what a cancelled attempt tells the breaker
        try:
            seq = call.bucket.try_acquire()
            if seq is None:  # the bucket is busy: queue, within the deadline
                waited = await self._wait_for_token(call, deadline)
                if isinstance(waited, IntegrationError):
                    return waited
                seq = waited
            try:
                await self.before_attempt(call.method, call.template, call.operation)
            except IntegrationError as refused:
                return refused
            limit = self.timeouts.total
            if deadline is not None:
                limit = min(limit, deadline - clock.monotonic())
            request = self._client.build_request(
                call.method, call.url, params=call.params, json=call.json,
                content=call.content, headers=call.headers,
            )  # fmt: skip
            t0 = clock.monotonic()
            try:
                async with clock.timeout(limit):
                    response = await self._client.send(request)
            except (httpx.HTTPError, TimeoutError, OSError) as exc:
                outcome = "failure"
                error = IntegrationError.from_exception(
                    exc, service=self.service, operation=call.operation, endpoint=call.template,
                    redactor=self.redactor, timeout_s=round(limit, 2),
                )  # fmt: skip
                self.telemetry.api_call(
                    call.template, call.method, call.operation, t0, None, None, error
                )
                return error
            info = self.rate_limit_info(response)
            retry_after = call.bucket.learn(info, seq, status=response.status_code, now=clock.now())
            status = response.status_code
            if 200 <= status < 300:
                failed = self._check_json(call, response) if call.expect_json else None
                outcome = "failure" if failed else "success"
                self.telemetry.api_call(
                    call.template, call.method, call.operation, t0, response, info, failed
                )
                return failed or response
            error = IntegrationError.from_response(
                response, service=self.service, operation=call.operation,
                endpoint=call.template, redactor=self.redactor,
                retry_statuses=call.policy.retry_statuses, retry_after=retry_after,
            )  # fmt: skip
            error = self.response_error(response, error)
            # 429 is flow control and other 4xx prove the service is up: neither is a failure.
            outcome = "failure" if status >= 500 else "neutral" if status == 429 else "success"
            self.telemetry.api_call(
                call.template, call.method, call.operation, t0, response, info, error,
                expected=status in call.expected_statuses,
            )  # fmt: skip
            return error
        finally:
            self.breaker.record(admission, outcome)

    async def _wait_for_token(self, call: _Call, deadline: float | None) -> int | IntegrationError:
        """Queue for a token, unless it would come after the deadline: then fail now."""
        clock = self.runtime.clock
        remaining = None if deadline is None else deadline - clock.monotonic()
        if remaining is not None and (remaining <= 0 or call.bucket.delay() >= remaining):
            return call.bucket.rejection(self.service, call.operation, call.template, remaining)
        try:
            async with clock.timeout(remaining):
                return await call.bucket.acquire()
        except TimeoutError:
            return call.bucket.rejection(self.service, call.operation, call.template, remaining)

    def _check_json(self, call: _Call, response: httpx.Response) -> IntegrationError | None:
        if not response.content.strip():
            return None  # 204 and friends
        try:
            jsonlib.loads(response.content)
        except ValueError as exc:
            return IntegrationError.malformed_body(
                response, exc, service=self.service, operation=call.operation,
                endpoint=call.template,
            )  # fmt: skip
        return None

    # -- health and lifetime -----------------------------------------------------------

    async def health(self) -> HealthResult:
        """Run ``probe()`` (which goes through ``request()`` like any call) and judge it.

        "healthy" only when the authenticated probe succeeded in time with no 429 or failed
        attempt; "degraded" when slow, retried or rate limited; "down" with the real reason.
        """
        return await run_health_check(
            self.probe,
            service=self.service,
            business_id=self.business_id,
            clock=self.runtime.clock,
            settings=self.health_settings,
            redactor=self.redactor,
            breaker_state=lambda: self.breaker.state,
        )

    async def aclose(self) -> None:
        """Close the HTTP client and its connections. The shared runtime stays usable."""
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
