"""The daily timeline: a replaced key stays active for the overlap, is then deactivated, and is
deleted a full period later; a key a person deactivated is recorded first. Timeless: the tags
are dated from the real clock, which the run uses too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from access_key_rotation import app
from access_key_rotation.timeline import Periods, plan_keys
from opskit.events import EventError
from tests.access_key_rotation.seed import USER, secret_for, user_with_key
from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext

PERIODS = Periods(overlap=timedelta(days=10), delete_after=timedelta(days=10))


@pytest.fixture(autouse=True)
def _live(monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)


def daily(context: FakeLambdaContext) -> dict[str, Any]:
    event = {"version": "0", "id": "f3c1a4a2-0c0e-4b0b-9a57-0d5d2f1e9b10",
             "detail-type": "Scheduled Run", "source": "aws.scheduler", "account": "123456789012",
             "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "eu-west-1",
             "resources": [], "detail": {}}
    result: dict[str, Any] = app.lambda_handler(event, context)
    return result


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


def rotated_user(replaced_days_ago: float | None = None) -> tuple[str, str]:
    """ci-deployer with its current key in the secret and a previous key (returned second)."""
    iam = boto3.client("iam")
    current = user_with_key()
    secret_for(current)
    previous = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    if replaced_days_ago is not None:
        iam.tag_user(UserName=USER, Tags=[{"Key": f"opskit:key-replaced:{previous}",
                                           "Value": ago(replaced_days_ago)}])
    return current["AccessKeyId"], previous


def keys() -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"]
            for k in boto3.client("iam").list_access_keys(UserName=USER)["AccessKeyMetadata"]}


def tags() -> dict[str, str]:
    return {t["Key"]: t["Value"]
            for t in boto3.client("iam").list_user_tags(UserName=USER)["Tags"]}


@pytest.mark.usefixtures("aws")
def test_the_replaced_key_stays_active_through_the_overlap(
        lambda_context: FakeLambdaContext) -> None:
    current, previous = rotated_user(replaced_days_ago=9)
    daily(lambda_context)
    assert keys() == {current: "Active", previous: "Active"}


@pytest.mark.usefixtures("aws")
def test_after_the_overlap_the_replaced_key_is_deactivated_then_deleted_a_period_later(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox) -> None:
    current, previous = rotated_user(replaced_days_ago=10.5)
    daily(lambda_context)
    assert keys() == {current: "Active", previous: "Inactive"}
    assert f"opskit:key-deactivated:{previous}" in tags()
    (report,) = alert_inbox.received()
    assert [(a["resource"], a["action"], a["status"]) for a in report["actions"]] == [
        (previous, "deactivate-replaced-key", "done")]
    daily(lambda_context)  # the next day: still within its deletion period
    assert previous in keys()
    boto3.client("iam").tag_user(UserName=USER, Tags=[
        {"Key": f"opskit:key-deactivated:{previous}", "Value": ago(10.5)}])
    daily(lambda_context)
    assert keys() == {current: "Active"}
    assert set(tags()) == {"opskit:rotation-secret"}


@pytest.mark.usefixtures("aws")
def test_a_key_a_person_deactivated_is_recorded_and_deleted_only_a_period_later(
        lambda_context: FakeLambdaContext) -> None:
    current, spare = rotated_user()
    boto3.client("iam").update_access_key(UserName=USER, AccessKeyId=spare, Status="Inactive")
    daily(lambda_context)
    assert keys() == {current: "Active", spare: "Inactive"}  # recorded, not deleted
    recorded = datetime.fromisoformat(tags()[f"opskit:key-deactivated:{spare}"])
    assert abs(datetime.now(UTC) - recorded) < timedelta(minutes=5)


@pytest.mark.usefixtures("aws")
def test_the_current_key_and_a_persons_second_key_are_never_touched(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    current, second = rotated_user()  # a second active key nobody rotated away
    api_calls.reset()
    daily(lambda_context)
    assert keys() == {current: "Active", second: "Active"}
    assert [op for (_, op) in api_calls.counts if op.startswith(("Update", "Delete", "Tag"))] == []


@pytest.mark.usefixtures("aws")
def test_a_key_reactivated_after_it_was_read_is_left_alone(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    """Re-read before destroying: between the plan and the delete, a person turned it on."""
    from access_key_rotation import timeline

    current, spare = rotated_user()
    iam = boto3.client("iam")
    iam.update_access_key(UserName=USER, AccessKeyId=spare, Status="Inactive")
    iam.tag_user(UserName=USER, Tags=[{"Key": f"opskit:key-deactivated:{spare}",
                                       "Value": ago(30)}])
    real = timeline._still_so

    def reactivated_first(*args: Any, **kwargs: Any) -> bool:
        iam.update_access_key(UserName=USER, AccessKeyId=spare, Status="Active")
        return real(*args, **kwargs)

    monkeypatch.setattr(timeline, "_still_so", reactivated_first)
    result = daily(lambda_context)
    assert keys() == {current: "Active", spare: "Active"}
    assert result["targets"][0]["counts"] == {"done": 0, "planned": 0, "skipped": 1,
                                              "failed": 0}
    assert alert_inbox.received() == []  # a skip alone is logged, not sent


@pytest.mark.usefixtures("aws")
def test_a_secret_whose_user_does_not_name_it_is_reported_and_the_others_go_on(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox) -> None:
    iam = boto3.client("iam")
    loner = user_with_key("loner", secret="something-else")
    secret_for(loner, name="opskit/iam/loner", user="loner", bind=False)
    current, previous = rotated_user(replaced_days_ago=11)
    daily(lambda_context)
    assert keys() == {current: "Active", previous: "Inactive"}
    assert iam.list_access_keys(UserName="loner")["AccessKeyMetadata"][0]["Status"] == "Active"
    (report,) = alert_inbox.received()
    statuses = {a["resource"]: a["status"] for a in report["actions"]}
    assert statuses == {"opskit/iam/loner": "failed", previous: "done"}


@pytest.mark.usefixtures("aws")
def test_only_the_schedule_runs_the_timeline(lambda_context: FakeLambdaContext,
                                             api_calls: ApiCalls) -> None:
    api_calls.reset()
    with pytest.raises(EventError, match="detail-type"):
        app.lambda_handler({"version": "0", "id": "x", "detail-type": "GuardDuty Finding",
                            "source": "aws.guardduty", "time": "2026-12-07T00:00:00Z",
                            "detail": {}}, lambda_context)
    assert api_calls.counts == {}


@pytest.mark.parametrize(("status", "stamp", "days", "expected"), [
    ("Active", "opskit:key-replaced", 9.9, []),
    ("Active", "opskit:key-replaced", 10, ["deactivate-replaced-key"]),
    ("Active", None, 400, []),  # not replaced by a rotation: a person's key
    ("Inactive", None, 0, ["record-inactive-key"]),
    # Not replaced by a rotation (the auditor's, a person's): KeyDeleteAfterDays (30).
    ("Inactive", "opskit:key-deactivated", 29.9, []),
    ("Inactive", "opskit:key-deactivated", 30, ["delete-inactive-key"]),
])
def test_the_timeline_table(status: str, stamp: str | None, days: float,
                            expected: list[str]) -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    user_tags = {f"{stamp}:AKIAOTHER": (now - timedelta(days=days)).isoformat()} if stamp else {}
    plan = plan_keys(USER, user_tags, [{"AccessKeyId": "AKIACURRENT", "Status": "Active"},
                                       {"AccessKeyId": "AKIAOTHER", "Status": status}],
                     "AKIACURRENT", now=now, periods=PERIODS)
    assert [a.action for a in plan.actions] == expected


@pytest.mark.usefixtures("aws")
def test_a_key_a_person_turned_back_on_is_not_turned_off_again(
        lambda_context: FakeLambdaContext) -> None:
    current, previous = rotated_user(replaced_days_ago=11)
    daily(lambda_context)
    assert keys()[previous] == "Inactive"
    boto3.client("iam").update_access_key(UserName=USER, AccessKeyId=previous, Status="Active")
    daily(lambda_context)
    assert keys() == {current: "Active", previous: "Active"}


@pytest.mark.usefixtures("aws")
def test_a_key_the_auditor_deactivated_waits_the_auditors_period(
        lambda_context: FakeLambdaContext) -> None:
    """Only keys a rotation replaced go after RotationDeleteAfterDays; any other inactive key
    waits KeyDeleteAfterDays (30), as the auditor would."""
    current, other = rotated_user()
    iam = boto3.client("iam")
    iam.update_access_key(UserName=USER, AccessKeyId=other, Status="Inactive")
    iam.tag_user(UserName=USER, Tags=[{"Key": f"opskit:key-deactivated:{other}",
                                       "Value": ago(15)}])
    daily(lambda_context)
    assert keys() == {current: "Active", other: "Inactive"}
    iam.tag_user(UserName=USER, Tags=[{"Key": f"opskit:key-deactivated:{other}",
                                       "Value": ago(31)}])
    daily(lambda_context)
    assert keys() == {current: "Active"}


@pytest.mark.usefixtures("aws")
def test_a_secret_naming_a_user_that_is_gone_does_not_stop_the_others(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox) -> None:
    boto3.client("secretsmanager").create_secret(
        Name="opskit/iam/nobody", SecretString="{}",
        Tags=[{"Key": "opskit:iam-user", "Value": "nobody"}])
    current, previous = rotated_user(replaced_days_ago=11)
    daily(lambda_context)
    assert keys() == {current: "Active", previous: "Inactive"}
    (report,) = alert_inbox.received()
    assert {a["resource"]: a["status"] for a in report["actions"]} == {
        "opskit/iam/nobody": "failed", previous: "done"}
