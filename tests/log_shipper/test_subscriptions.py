"""The hourly reconciliation of subscription filters: only our filter (our name AND this
function as destination) is changed, the two-filter limit is reported, exempt groups and the
shipper's own log group are never touched, dry-run plans, and every change is re-read first."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import boto3
import pytest

from log_shipper import app
from log_shipper.subscriptions import SubscriptionStore
from tests.conftest import REGION, AlertInbox, ApiCalls, FakeLambdaContext, load_event

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:opskit-test"
OTHER_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:other-shipper"
SCHEDULE = "log_shipper/reconcile-schedule.json"


def _function(name: str) -> None:
    role = boto3.client("iam").create_role(
        RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=name, Runtime="python3.13", Role=role, Handler="index.handler",
        Code={"ZipFile": code.getvalue()})


def _group(name: str, tags: dict[str, str] | None = None,
           filters: tuple[tuple[str, str], ...] = ()) -> None:
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName=name, **({"tags": tags} if tags else {}))
    for filter_name, destination in filters:
        logs.put_subscription_filter(logGroupName=name, filterName=filter_name,
                                     filterPattern="", destinationArn=destination)


def _filters(name: str) -> list[tuple[str, str, str]]:
    found = boto3.client("logs", region_name=REGION).describe_subscription_filters(
        logGroupName=name)["subscriptionFilters"]
    return sorted((f["filterName"], f["destinationArn"], f.get("filterPattern", ""))
                  for f in found)


@pytest.fixture
def groups(shipper_env: dict[str, str], alert_inbox: AlertInbox,
           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    monkeypatch.setenv("LOG_GROUPS", "/aws/lambda/payments,/aws/lambda/opskit-test")
    _function("opskit-test")
    _function("other-shipper")
    _group("/aws/lambda/orders-api", {"opskit:ship-logs": "true"})
    _group("/aws/lambda/payments")
    _group("/aws/lambda/opskit-test")  # the shipper's own: listed, never subscribed
    _group("/aws/lambda/secret", {"opskit:ship-logs": "true", "opskit:exempt": "true"})
    _group("/aws/lambda/quiet")  # neither named nor tagged
    _group("/ecs/full", {"opskit:ship-logs": "true"},
           (("datadog", OTHER_ARN), ("splunk", OTHER_ARN)))
    _group("/ecs/squatted", {"opskit:ship-logs": "true"}, (("opskit-log-shipper", OTHER_ARN),))


def _outcomes(reports: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    (report,) = reports
    return {a["resource"]: (a["action"], a["status"]) for a in report["actions"]}


@pytest.mark.usefixtures("groups")
def test_dry_run_plans_and_changes_nothing(lambda_context: FakeLambdaContext,
                                           reports: list[dict[str, Any]],
                                           api_calls: ApiCalls) -> None:
    result = app.lambda_handler(load_event(SCHEDULE), lambda_context)
    assert result["dry_run"] is True
    assert result["counts"] == {"done": 0, "planned": 2, "skipped": 2, "failed": 2}
    assert _outcomes(reports) == {
        "/aws/lambda/orders-api": ("add-filter", "planned"),
        "/aws/lambda/payments": ("add-filter", "planned"),
        "/aws/lambda/opskit-test": ("add-filter", "skipped"),
        "/aws/lambda/secret": ("add-filter", "skipped"),
        "/ecs/full": ("add-filter", "failed"),
        "/ecs/squatted": ("add-filter", "failed"),
    }
    assert api_calls.of("logs", "PutSubscriptionFilter") == 0
    assert _filters("/aws/lambda/orders-api") == []


@pytest.mark.usefixtures("groups")
def test_live_it_adds_only_its_own_filter_and_reports_the_rest(
        lambda_context: FakeLambdaContext, reports: list[dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch, api_calls: ApiCalls) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    result = app.lambda_handler(load_event(SCHEDULE), lambda_context)
    assert result["counts"] == {"done": 2, "planned": 0, "skipped": 2, "failed": 2}
    for name in ("/aws/lambda/orders-api", "/aws/lambda/payments"):
        assert _filters(name) == [("opskit-log-shipper", FUNCTION_ARN, "")]
    assert _filters("/aws/lambda/secret") == []
    assert _filters("/aws/lambda/opskit-test") == []
    assert _filters("/ecs/full") == [("datadog", OTHER_ARN, ""), ("splunk", OTHER_ARN, "")]
    assert _filters("/ecs/squatted") == [("opskit-log-shipper", OTHER_ARN, "")]
    notes = {a["resource"]: a["details"].get("note", "") for a in reports[0]["actions"]}
    assert "already has 2 subscription filters (the limit is 2)" in notes["/ecs/full"]
    assert "not ours, left alone" in notes["/ecs/squatted"]
    assert "exempt" in notes["/aws/lambda/secret"]
    assert "own log group" in notes["/aws/lambda/opskit-test"]
    assert api_calls.of("logs", "PutSubscriptionFilter") == 2
    # Only the candidates' filters are read (not the group nobody named or tagged), and read
    # again just before each of the two adds.
    assert api_calls.of("logs", "DescribeSubscriptionFilters") == 6 + 2

    reports.clear()
    again = app.lambda_handler(load_event(SCHEDULE), lambda_context)
    assert again["counts"]["done"] == 0  # nothing left to do
    assert api_calls.of("logs", "PutSubscriptionFilter") == 2


def _ours(name: str, tags: dict[str, str], pattern: str = "") -> None:
    _group(name, tags)
    boto3.client("logs", region_name=REGION).put_subscription_filter(
        logGroupName=name, filterName="opskit-log-shipper", filterPattern=pattern,
        destinationArn=FUNCTION_ARN)


@pytest.mark.usefixtures("shipper_env")
def test_a_group_tagged_off_loses_our_filter_and_a_changed_pattern_is_rewritten(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    _function("opskit-test")
    _ours("/svc/off", {"opskit:ship-logs": "false"})
    _ours("/svc/on", {"opskit:ship-logs": "true"}, pattern="ERROR")
    result = app.lambda_handler(load_event(SCHEDULE), lambda_context)
    assert result["counts"]["done"] == 2
    assert _filters("/svc/off") == []
    assert _filters("/svc/on") == [("opskit-log-shipper", FUNCTION_ARN, "")]


@pytest.mark.usefixtures("shipper_env")
def test_a_group_that_changed_before_the_delete_is_left_alone(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        reports: list[dict[str, Any]]) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    _function("opskit-test")
    _ours("/svc/off", {"opskit:ship-logs": "false"})
    read = SubscriptionStore.tags
    seen: list[str] = []

    def tags(store: SubscriptionStore, arn: str) -> dict[str, str]:
        seen.append(arn)
        found = read(store, arn)
        if len(seen) == 2:  # the re-read: someone turned shipping back on meanwhile
            found["opskit:ship-logs"] = "true"
        return found

    monkeypatch.setattr(SubscriptionStore, "tags", tags)
    result = app.lambda_handler(load_event(SCHEDULE), lambda_context)
    assert result["counts"] == {"done": 0, "planned": 0, "skipped": 1, "failed": 0}
    assert _filters("/svc/off") == [("opskit-log-shipper", FUNCTION_ARN, "")]
    assert "changed since it was read" in reports[0]["actions"][0]["details"]["note"]


@pytest.mark.usefixtures("shipper_env")
def test_the_schedule_accepts_only_scheduled_events(lambda_context: FakeLambdaContext) -> None:
    from opskit.events import EventError

    event = {**load_event(SCHEDULE), "source": "my.app"}
    with pytest.raises(EventError, match=r"detail-type='Scheduled Run from my\.app' is invalid"):
        app.lambda_handler(event, lambda_context)
