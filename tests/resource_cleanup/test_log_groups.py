"""Log-group retention is opt-in by name prefix, and audit trails are never shortened unless a
prefix names them (issue 20)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import time_machine

from tests.conftest import ACCOUNT, ApiCalls, FakeLambdaContext
from tests.resource_cleanup.runs import TAG, run
from tests.resource_cleanup.seed import LONG_AGO

GROUPS = ("/aws/lambda/orders", "/aws/cloudtrail/organization", "aws-cloudtrail-logs-123-abc",
          "/aws/lambda/Audit-export", "/ecs/web")


def log_groups() -> None:
    logs = boto3.client("logs")
    with time_machine.travel(LONG_AGO, tick=False):
        for name in GROUPS:
            logs.create_log_group(logGroupName=name)


def marks() -> dict[str, str | None]:
    logs = boto3.client("logs")
    return {name: logs.list_tags_for_resource(
        resourceArn=f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:{name}")["tags"].get(TAG)
        for name in GROUPS}


def retentions() -> dict[str, Any]:
    return {g["logGroupName"]: g.get("retentionInDays")
            for g in boto3.client("logs").describe_log_groups()["logGroups"]}


@pytest.mark.usefixtures("live")
def test_no_log_group_gets_a_retention_by_default(lambda_context: FakeLambdaContext,
                                                  api_calls: ApiCalls) -> None:
    log_groups()
    run(lambda_context)
    run(lambda_context, when="2026-11-30T05:00:00Z")
    assert set(marks().values()) == {None}
    assert set(retentions().values()) == {None}
    assert api_calls.of("logs") == 0  # not even read


@pytest.mark.usefixtures("live")
def test_only_the_listed_prefixes_get_a_retention_and_audit_groups_only_when_named(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_RETENTION_PREFIXES", "/aws/,aws-")
    log_groups()
    run(lambda_context)
    assert marks() == {"/aws/lambda/orders": "2026-11-30", "/aws/cloudtrail/organization": None,
                       "aws-cloudtrail-logs-123-abc": None, "/aws/lambda/Audit-export": None,
                       "/ecs/web": None}
    monkeypatch.setenv("LOG_RETENTION_PREFIXES", "/aws/,aws-cloudtrail-logs-")
    run(lambda_context, when="2026-11-30T05:00:00Z")
    assert retentions() == {"/aws/lambda/orders": 30, "/aws/cloudtrail/organization": None,
                            "aws-cloudtrail-logs-123-abc": None,  # marked today, due later
                            "/aws/lambda/Audit-export": None, "/ecs/web": None}
    assert marks()["aws-cloudtrail-logs-123-abc"] == "2026-12-07"


@pytest.mark.parametrize(("name", "prefixes", "expected"), [
    ("/aws/lambda/app", ("/aws/",), "/aws/"),
    ("/aws/lambda/app", (), None),
    ("/aws/cloudtrail/org", ("/aws/",), None),
    ("/aws/cloudtrail/org", ("/aws/", "/aws/cloudtrail/"), "/aws/cloudtrail/"),
    ("aws-cloudtrail-logs-1-x", ("aws-cloudtrail-logs",), "aws-cloudtrail-logs"),
    ("/app/AUDIT", ("/app/",), None),
    ("/app/AUDIT", ("/app/AUDIT",), "/app/AUDIT"),
])
def test_the_prefix_that_gives_a_retention(name: str, prefixes: tuple[str, ...],
                                           expected: str | None) -> None:
    from resource_cleanup.settings import is_audit_log_group, retention_prefix

    assert retention_prefix(name, prefixes) == expected
    assert is_audit_log_group(name) is ("cloudtrail" in name or "AUDIT" in name)
