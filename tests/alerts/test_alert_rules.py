"""Which results alert: a pure function of the result, the stored past and the rules."""

from __future__ import annotations

from datetime import timedelta

from alert_helpers import T0, result

from masterops.alerts import ChannelState, LastAlert, backoff, decide_alerts, judge
from masterops.config import AlertRules

RULES = AlertRules(channels=("log",), min_level="degraded", cooldown_s=900)
LATER = T0 + timedelta(hours=1)
KEY = ("teelixir", "hubspot")


def _judge(status: str, last: LastAlert | None, rules: AlertRules = RULES):  # type: ignore[no-untyped-def]
    return judge(result(status, at=LATER), ChannelState(told=last), rules, LATER)


def test_a_change_alerts_and_a_repeat_does_not() -> None:
    alert = _judge("down", LastAlert("healthy", T0))
    assert alert is not None
    assert (alert.kind, alert.previous_status, alert.status, alert.level) == (
        "problem",
        "healthy",
        "down",
        "error",
    )
    assert alert.title == "teelixir/hubspot is DOWN (was healthy)"
    assert "hubspot answered: down" in alert.text()
    # Told "down" an hour ago, still down: nothing new.
    assert _judge("down", LastAlert("down", T0)) is None
    # Never told (e.g. the rounds so far ran with --no-alerts): news, whatever was stored.
    never_told = _judge("down", None)
    assert never_told is not None and never_told.previous_status is None


def test_first_sight_of_a_problem_alerts_but_not_of_health() -> None:
    alert = _judge("degraded", None)
    assert alert is not None and alert.previous_status is None and alert.level == "warn"
    assert alert.title == "teelixir/hubspot is DEGRADED"
    assert _judge("healthy", None) is None


def test_recovery_is_announced_once() -> None:
    recovery = _judge("healthy", LastAlert("down", T0))
    assert recovery is not None and recovery.kind == "recovery"
    assert recovery.title == "teelixir/hubspot recovered: healthy (was down)"
    # The next round: the operator was last told "healthy".
    assert _judge("healthy", LastAlert("healthy", LATER - timedelta(minutes=5))) is None


def test_changes_below_min_level_are_quiet() -> None:
    rules = AlertRules(channels=("log",), min_level="down", cooldown_s=0)
    assert _judge("degraded", None, rules) is None
    down = _judge("down", None, rules)
    assert down is not None and down.kind == "problem"
    better = _judge("degraded", LastAlert("down", T0), rules)
    assert better is not None and better.kind == "recovery"  # out of the alerting level
    assert _judge("healthy", LastAlert("degraded", T0), rules) is None


def test_less_bad_but_still_alerting_is_announced() -> None:
    alert = _judge("degraded", LastAlert("down", T0))
    assert alert is not None and alert.kind == "better"


def test_cooldown_holds_back_and_catches_up() -> None:
    told_down = LastAlert("down", LATER - timedelta(seconds=60))
    assert _judge("healthy", told_down) is None  # recovered within the cooldown
    # After the cooldown the last round was already healthy (no change since the last
    # round), but the operator still believes "down": the recovery is announced now.
    told_long_ago = LastAlert("down", LATER - timedelta(seconds=901))
    alert = _judge("healthy", told_long_ago)
    assert alert is not None and alert.kind == "recovery"
    # A cooldown of 0 holds nothing back.
    rules = AlertRules(channels=("log",), min_level="degraded", cooldown_s=0)
    assert _judge("healthy", LastAlert("down", LATER), rules) is not None


def test_an_escalation_is_never_held_back() -> None:
    told_degraded = LastAlert("degraded", LATER - timedelta(seconds=60))
    escalation = _judge("down", told_degraded)
    assert escalation is not None and escalation.kind == "problem"
    told_down = LastAlert("down", LATER - timedelta(seconds=60))
    assert _judge("degraded", told_down) is None  # an improvement waits


def test_disabled_is_configuration_not_health() -> None:
    assert _judge("disabled", LastAlert("healthy", T0)) is None
    assert _judge("disabled", LastAlert("down", T0)) is None
    # Disabled until now counts as never checked.
    assert _judge("healthy", None) is None
    alert = _judge("down", None)
    assert alert is not None and alert.previous_status is None


def test_decide_alerts_keeps_the_order_of_results_then_channels() -> None:
    results = [
        result("down", service="n8n", at=LATER),
        result("healthy", service="hubspot", at=LATER),
        result("degraded", service="unleashed", at=LATER),
    ]
    # Slack was already told unleashed is degraded; the log was not.
    states = {("teelixir", "unleashed", "slack"): ChannelState(told=LastAlert("degraded", T0))}
    due = decide_alerts(results, states, ["log", "slack"], RULES, LATER)
    assert [(c, a.service, a.status) for c, a in due] == [
        ("log", "n8n", "down"),
        ("slack", "n8n", "down"),
        ("log", "unleashed", "degraded"),
    ]


def test_a_failing_channel_backs_off_except_for_worse_news() -> None:
    assert [backoff(RULES, n).total_seconds() for n in range(6)] == [0, 60, 120, 240, 480, 960]
    assert backoff(RULES, 40).total_seconds() == 3600
    failed = ChannelState(
        failures=2, last_failure=LastAlert("degraded", LATER - timedelta(seconds=90))
    )
    assert judge(result("degraded", at=LATER), failed, RULES, LATER) is None  # waits 120 s
    worse = judge(result("down", at=LATER), failed, RULES, LATER)
    assert worse is not None and worse.kind == "problem"
    later = LATER + timedelta(seconds=31)
    retried = judge(result("degraded", at=later), failed, RULES, later)
    assert retried is not None and retried.previous_status is None
