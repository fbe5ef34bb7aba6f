"""Which results alert: a pure function of the result, the stored past and the rules."""

from __future__ import annotations

from datetime import timedelta

from alert_helpers import T0, result

from masterops.alerts import LastAlert, decide_alerts, judge
from masterops.config import AlertRules

RULES = AlertRules(channels=("log",), min_level="degraded", cooldown_s=900)
LATER = T0 + timedelta(hours=1)
KEY = ("teelixir", "hubspot")


def _judge(status: str, previous: str | None, last: LastAlert | None, rules: AlertRules = RULES):  # type: ignore[no-untyped-def]
    return judge(result(status, at=LATER), previous, last, rules, LATER)


def test_a_change_alerts_and_a_repeat_does_not() -> None:
    alert = _judge("down", "healthy", None)
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
    assert _judge("down", "down", LastAlert("down", T0)) is None
    # Never alerted (e.g. --no-alerts), stored down, still down: a repeat too.
    assert _judge("down", "down", None) is None


def test_first_sight_of_a_problem_alerts_but_not_of_health() -> None:
    alert = _judge("degraded", None, None)
    assert alert is not None and alert.previous_status is None and alert.level == "warn"
    assert alert.title == "teelixir/hubspot is DEGRADED"
    assert _judge("healthy", None, None) is None


def test_recovery_is_announced_once() -> None:
    recovery = _judge("healthy", "down", LastAlert("down", T0))
    assert recovery is not None and recovery.kind == "recovery"
    assert recovery.title == "teelixir/hubspot recovered: healthy (was down)"
    # The next round: the operator was last told "healthy".
    assert _judge("healthy", "healthy", LastAlert("healthy", LATER - timedelta(minutes=5))) is None


def test_changes_below_min_level_are_quiet() -> None:
    rules = AlertRules(channels=("log",), min_level="down", cooldown_s=0)
    assert _judge("degraded", "healthy", None, rules) is None
    down = _judge("down", "degraded", None, rules)
    assert down is not None and down.kind == "problem"
    better = _judge("degraded", "down", LastAlert("down", T0), rules)
    assert better is not None and better.kind == "recovery"  # out of the alerting level
    assert _judge("healthy", "degraded", LastAlert("degraded", T0), rules) is None


def test_less_bad_but_still_alerting_is_announced() -> None:
    alert = _judge("degraded", "down", LastAlert("down", T0))
    assert alert is not None and alert.kind == "better"


def test_cooldown_holds_back_and_catches_up() -> None:
    told_down = LastAlert("down", LATER - timedelta(seconds=60))
    assert _judge("healthy", "down", told_down) is None  # recovered within the cooldown
    # After the cooldown the last round was already healthy (no change since the last
    # round), but the operator still believes "down": the recovery is announced now.
    told_long_ago = LastAlert("down", LATER - timedelta(seconds=901))
    alert = _judge("healthy", "healthy", told_long_ago)
    assert alert is not None and alert.kind == "recovery"
    # A cooldown of 0 holds nothing back.
    rules = AlertRules(channels=("log",), min_level="degraded", cooldown_s=0)
    assert _judge("healthy", "down", LastAlert("down", LATER), rules) is not None


def test_an_escalation_is_never_held_back() -> None:
    told_degraded = LastAlert("degraded", LATER - timedelta(seconds=60))
    escalation = _judge("down", "degraded", told_degraded)
    assert escalation is not None and escalation.kind == "problem"
    told_down = LastAlert("down", LATER - timedelta(seconds=60))
    assert _judge("degraded", "down", told_down) is None  # an improvement waits


def test_disabled_is_configuration_not_health() -> None:
    assert _judge("disabled", "healthy", LastAlert("healthy", T0)) is None
    assert _judge("disabled", "down", LastAlert("down", T0)) is None
    # Disabled until now counts as never checked.
    assert _judge("healthy", "disabled", None) is None
    alert = _judge("down", "disabled", None)
    assert alert is not None and alert.previous_status is None


def test_decide_alerts_keeps_the_order_of_results() -> None:
    results = [
        result("down", service="n8n", at=LATER),
        result("healthy", service="hubspot", at=LATER),
        result("degraded", service="unleashed", at=LATER),
    ]
    previous = {("teelixir", "n8n"): "healthy", KEY: "healthy"}
    alerts = decide_alerts(results, previous, {}, RULES, LATER)
    assert [(a.service, a.status) for a in alerts] == [("n8n", "down"), ("unleashed", "degraded")]
