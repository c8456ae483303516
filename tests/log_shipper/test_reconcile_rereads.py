"""The reconciliation reads a group again just before it adds, changes or deletes a filter: a
filter with our name made meanwhile, a group at its two-filter limit, or a group exempted
meanwhile is skipped and reported; our filter on the shipper's own log group is removed, and
IAM refuses to put a filter there."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from log_shipper import app
from log_shipper.subscriptions import SubscriptionStore
from tests.conftest import REGION, FakeLambdaContext, load_event
from tests.log_shipper.test_subscriptions import (
    FUNCTION_ARN,
    OTHER_ARN,
    SCHEDULE,
    _filters,
    _function,
    _group,
)
from tools.catalog import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "functions" / "log_shipper" / "template.yaml"


def _ours(name: str, tags: dict[str, str] | None = None) -> None:
    _group(name, tags)
    boto3.client("logs", region_name=REGION).put_subscription_filter(
        logGroupName=name, filterName="opskit-log-shipper", filterPattern="",
        destinationArn=FUNCTION_ARN)


def _after_first_read(monkeypatch: pytest.MonkeyPatch, group: str, change: Any) -> None:
    """`change(store)` runs just after the run's first read of `group`'s filters."""
    read = SubscriptionStore.filters
    reads: list[str] = []

    def filters(store: SubscriptionStore, name: str) -> Any:
        found = read(store, name)
        reads.append(name)
        if name == group and reads.count(name) == 1:
            change(store)
        return found

    monkeypatch.setattr(SubscriptionStore, "filters", filters)


def _notes(reports: list[dict[str, Any]]) -> dict[str, str]:
    return {a["resource"]: a["details"].get("note", "") for a in reports[0]["actions"]}


@pytest.mark.usefixtures("shipper_env")
def test_a_filter_with_our_name_made_before_the_add_is_left_alone_and_reported(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        reports: list[dict[str, Any]]) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    _function("opskit-test")
    _function("other-shipper")
    _group("/svc/new", {"opskit:ship-logs": "true"})
    _after_first_read(monkeypatch, "/svc/new", lambda store: store.logs.put_subscription_filter(
        logGroupName="/svc/new", filterName="opskit-log-shipper", filterPattern="",
        destinationArn=OTHER_ARN))
    result = app.lambda_handler(load_event(SCHEDULE), lambda_context)
    assert _filters("/svc/new") == [("opskit-log-shipper", OTHER_ARN, "")]
    assert (result["counts"]["done"], result["counts"]["skipped"]) == (0, 1)
    assert "a filter named opskit-log-shipper was made since" in _notes(reports)["/svc/new"]


@pytest.mark.usefixtures("shipper_env")
def test_a_group_at_two_filters_before_the_add_is_left_alone_and_reported(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        reports: list[dict[str, Any]]) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    _function("opskit-test")
    _function("other-shipper")
    _group("/svc/busy", {"opskit:ship-logs": "true"})

    def two(store: SubscriptionStore) -> None:
        for name in ("datadog", "splunk"):
            store.logs.put_subscription_filter(logGroupName="/svc/busy", filterName=name,
                                               filterPattern="", destinationArn=OTHER_ARN)

    _after_first_read(monkeypatch, "/svc/busy", two)
    result = app.lambda_handler(load_event(SCHEDULE), lambda_context)
    assert _filters("/svc/busy") == [("datadog", OTHER_ARN, ""), ("splunk", OTHER_ARN, "")]
    assert (result["counts"]["done"], result["counts"]["skipped"]) == (0, 1)
    assert "has 2 subscription filters since it was read" in _notes(reports)["/svc/busy"]


@pytest.mark.usefixtures("shipper_env")
def test_our_filter_on_the_shippers_own_log_group_is_removed(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    _function("opskit-test")
    _ours("/aws/lambda/opskit-test", {"opskit:ship-logs": "true"})
    result = app.lambda_handler(load_event(SCHEDULE), lambda_context)
    assert _filters("/aws/lambda/opskit-test") == []
    assert result["counts"]["done"] == 1


@pytest.mark.usefixtures("shipper_env")
def test_our_filter_on_the_own_log_group_is_only_planned_in_dry_run(
        lambda_context: FakeLambdaContext) -> None:
    _function("opskit-test")
    _ours("/aws/lambda/opskit-test")  # untagged: found all the same
    result = app.lambda_handler(load_event(SCHEDULE), lambda_context)
    assert result["counts"]["planned"] == 1
    assert _filters("/aws/lambda/opskit-test") == [("opskit-log-shipper", FUNCTION_ARN, "")]


def test_the_role_may_never_put_a_filter_on_the_functions_own_log_group() -> None:
    resources = load_template(TEMPLATE, style="short")["Resources"]
    policy = resources["LogShipperOwnLogGroupGuard"]["Properties"]
    assert policy["RoleName"] == {"Ref": "LogShipperFunctionRole"}
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Deny", "logs:PutSubscriptionFilter")
    arns = [re.sub(r"\s+", "", arn["Sub"]) for arn in statement["Resource"]]
    assert all(":log-group:/aws/lambda/${LogShipperFunction}" in arn for arn in arns)


@pytest.mark.usefixtures("shipper_env")
@pytest.mark.parametrize(("name", "tags", "seed"), [
    ("/svc/off", {"opskit:ship-logs": "false"}, "ours"),  # a delete
    ("/svc/new", {"opskit:ship-logs": "true"}, "none"),  # an add
])
def test_a_group_exempted_before_the_change_is_left_alone(
        name: str, tags: dict[str, str], seed: str, lambda_context: FakeLambdaContext,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    _function("opskit-test")
    if seed == "ours":
        _ours(name, tags)
    else:
        _group(name, tags)
    read = SubscriptionStore.tags
    seen: list[str] = []

    def tags_of(store: SubscriptionStore, arn: str) -> dict[str, str]:
        seen.append(arn)
        found = read(store, arn)
        if len(seen) >= 2:  # the re-read: the group was exempted meanwhile
            found["opskit:exempt"] = "true"
        return found

    changed: list[str] = []
    monkeypatch.setattr(SubscriptionStore, "tags", tags_of)
    monkeypatch.setattr(SubscriptionStore, "delete",
                        lambda store, params: changed.append(params.log_group))
    monkeypatch.setattr(SubscriptionStore, "put",
                        lambda store, params, arn: changed.append(params.log_group))
    result = app.lambda_handler(load_event(SCHEDULE), lambda_context)
    assert changed == []
    assert (result["counts"]["done"], result["counts"]["skipped"]) == (0, 1)
