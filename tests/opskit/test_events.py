"""A scheduled handler accepts only its schedule's events, and its clock is the Lambda's."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from opskit.events import MAX_CLOCK_SKEW, EventError, require_scheduled_event
from tests.conftest import ApiCalls, FakeLambdaContext

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def envelope(source: str, detail_type: str, time: str, detail: Any = None) -> dict[str, Any]:
    return {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": detail_type, "source": source, "account": "123456789012",
            "time": time, "region": "eu-west-1", "resources": [],
            "detail": {} if detail is None else detail}


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# Events other rules deliver: a mis-wired rule or a test invoke must not start a sweep.
OTHERS = {
    "guardduty-finding": envelope("aws.guardduty", "GuardDuty Finding", at(NOW),
                                  {"schemaVersion": "2.0", "severity": 8, "type":
                                   "UnauthorizedAccess:EC2/SSHBruteForce"}),
    "ec2-state-change": envelope("aws.ec2", "EC2 Instance State-change Notification", at(NOW),
                                 {"instance-id": "i-0abcd1234ef567890", "state": "stopped"}),
    "health-event": envelope("aws.health", "AWS Health Event", at(NOW),
                             {"service": "EC2", "eventTypeCategory": "scheduledChange"}),
    # The right detail-type from the wrong source, and the pairs crossed.
    "custom-source": envelope("my.app", "Scheduled Event", at(NOW)),
    "crossed-pair": envelope("aws.events", "Scheduled Run", at(NOW)),
}


@pytest.mark.parametrize(("source", "detail_type"), [("aws.scheduler", "Scheduled Run"),
                                                     ("aws.events", "Scheduled Event")])
def test_the_schedules_are_accepted_and_the_clock_is_the_lambdas(source: str,
                                                                 detail_type: str) -> None:
    # An event dated a year back (a replayed sample, a late retry) runs at the real time.
    event = EventBridgeEvent(envelope(source, detail_type, at(NOW - timedelta(days=365))))
    assert require_scheduled_event(event, now=NOW) == NOW


@pytest.mark.parametrize("name", sorted(OTHERS))
def test_other_events_are_refused_naming_the_field(name: str) -> None:
    with pytest.raises(EventError) as refused:
        require_scheduled_event(EventBridgeEvent(OTHERS[name]), now=NOW)
    assert refused.value.field == "detail-type"
    assert OTHERS[name]["source"] in str(refused.value)


@pytest.mark.parametrize(("ahead", "refused"), [
    (timedelta(0), False), (MAX_CLOCK_SKEW, False),
    (MAX_CLOCK_SKEW + timedelta(seconds=1), True), (timedelta(days=730), True)])
def test_an_event_dated_ahead_of_the_clock_is_refused(ahead: timedelta, refused: bool) -> None:
    event = EventBridgeEvent(envelope("aws.scheduler", "Scheduled Run", at(NOW + ahead)))
    if not refused:
        assert require_scheduled_event(event, now=NOW) == NOW
        return
    with pytest.raises(EventError) as error:
        require_scheduled_event(event, now=NOW)
    assert error.value.field == "time"


SCHEDULED = ("access_key_auditor", "auto_tagger", "instance_scheduler", "rds_backup",
             "resource_cleanup", "s3_public_remediation", "sg_open_port_remediation")
TWO_YEARS_AHEAD = envelope("aws.scheduler", "Scheduled Run",
                           at(datetime.now(UTC) + timedelta(days=730)), {"mode": "backup"})


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("automation", SCHEDULED)
@pytest.mark.parametrize("name", [*sorted(OTHERS), "dated-two-years-ahead"])
def test_a_scheduled_handler_refuses_other_events_before_any_call(
        automation: str, name: str, lambda_context: FakeLambdaContext, api_calls: ApiCalls,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A GuardDuty finding sent to the S3 function, or a backup run dated two years ahead (which
    would have aged every snapshot past its retention), changes nothing and calls nothing."""
    monkeypatch.setenv("DRY_RUN", "false")
    event = TWO_YEARS_AHEAD if name == "dated-two-years-ahead" else OTHERS[name]
    handler = importlib.import_module(f"{automation}.app").lambda_handler
    api_calls.reset()
    with pytest.raises(EventError) as refused:
        handler(event, lambda_context)
    assert refused.value.field in {"detail-type", "time"}
    assert api_calls.counts == {}
