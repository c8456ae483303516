"""RDS_SNAPSHOT_ON_STOP: a DB instance stop takes a snapshot, tags it as ours, and keeps each
database's newest few; a snapshot is deleted only when its tags prove it ours and its
database's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from instance_scheduler.stop_snapshots import (
    MANAGED_BY,
    MANAGED_BY_KEY,
    SOURCE_ACCOUNT_KEY,
    SOURCE_KEY,
    SOURCE_REGION_KEY,
    StopSnapshotError,
    expired,
    is_ours,
    stop_snapshot,
)
from tests.conftest import ApiCalls
from tests.instance_scheduler.harness import NEXT_MONDAY_NOON, SATURDAY_NOON, run
from tests.instance_scheduler.seed import make_db

DB_ARN = "arn:aws:rds:eu-west-1:123456789012:db:orders"
SNAPSHOTS = {"RDS_SNAPSHOT_ON_STOP": "true", "RESOURCE_TYPES": "rds"}
WEEK = timedelta(days=7)


def ours(identifier: str, created: datetime | None, *, db_arn: str = DB_ARN,
         status: str = "available", **changes: str) -> dict[str, Any]:
    tags = {MANAGED_BY_KEY: MANAGED_BY, SOURCE_KEY: db_arn, SOURCE_ACCOUNT_KEY: "123456789012",
            SOURCE_REGION_KEY: "eu-west-1", **changes}
    snapshot: dict[str, Any] = {
        "DBSnapshotIdentifier": identifier, "SnapshotType": "manual", "Status": status,
        "TagList": [{"Key": k, "Value": v} for k, v in tags.items()]}
    if created is not None:
        snapshot["SnapshotCreateTime"] = created
    return snapshot


# ---------------------------------------------------------------- names and ownership
def test_the_name_is_the_database_and_the_minute_in_utc() -> None:
    paris = datetime(2026, 11, 28, 13, 5, 42, tzinfo=UTC).astimezone()
    snapshot = stop_snapshot(DB_ARN, paris)
    assert snapshot.identifier == "opskit-stop-orders-202611281305"
    assert snapshot.arn == ("arn:aws:rds:eu-west-1:123456789012:snapshot:"
                            "opskit-stop-orders-202611281305")
    assert snapshot.tags == {MANAGED_BY_KEY: MANAGED_BY, SOURCE_KEY: DB_ARN,
                             SOURCE_ACCOUNT_KEY: "123456789012", SOURCE_REGION_KEY: "eu-west-1"}


@pytest.mark.parametrize("arn", [
    "arn:aws:rds:eu-west-1:123456789012:cluster:orders",
    "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc",
    "orders",
])
def test_only_a_db_instance_arn_names_a_snapshot(arn: str) -> None:
    with pytest.raises(StopSnapshotError, match="is not a DB instance ARN"):
        stop_snapshot(arn, SATURDAY_NOON)


@pytest.mark.parametrize(("snapshot", "verdict"), [
    (ours("opskit-stop-orders-1", None), True),
    (ours("opskit-stop-orders-1", None, **{MANAGED_BY_KEY: "someone"}), False),
    (ours("opskit-stop-orders-1", None,
          **{SOURCE_KEY: "arn:aws:rds:eu-west-1:123456789012:db:orders-eu"}), False),
    (ours("opskit-stop-orders-1", None, **{SOURCE_ACCOUNT_KEY: "210987654321"}), False),
    (ours("opskit-stop-orders-1", None, **{SOURCE_REGION_KEY: "us-east-1"}), False),
    (ours("nightly-orders-1", None), False),  # our tags, not our name
    ({"DBSnapshotIdentifier": "opskit-stop-orders-1", "SnapshotType": "manual"}, False),
    ({**ours("opskit-stop-orders-1", None), "SnapshotType": "automated"}, False),
])
def test_ours_only_when_every_tag_says_so(snapshot: Any, verdict: bool) -> None:
    assert is_ours(snapshot, DB_ARN) is verdict


def test_expired_keeps_the_newest_and_never_a_snapshot_being_created() -> None:
    base = datetime(2026, 11, 1, tzinfo=UTC)
    snapshots = [ours(f"opskit-stop-orders-{day}", base + timedelta(days=day))
                 for day in range(5)]
    snapshots.append(ours("opskit-stop-orders-new", None, status="creating"))
    snapshots.append({**ours("opskit-stop-orders-foreign", base), "TagList": []})
    # Kept: the one being created, days 4 and 3; the foreign one is not ours to count.
    assert expired(snapshots, DB_ARN, 3, base + WEEK) == [
        "opskit-stop-orders-2", "opskit-stop-orders-1", "opskit-stop-orders-0"]


# ---------------------------------------------------------------- end to end on moto
def snapshots_of(db: str) -> dict[str, dict[str, str]]:
    rds = boto3.client("rds")
    found = rds.describe_db_snapshots(DBInstanceIdentifier=db, SnapshotType="manual")
    return {s["DBSnapshotIdentifier"]: {t["Key"]: t["Value"] for t in s.get("TagList", [])}
            for s in found["DBSnapshots"]}


@pytest.mark.usefixtures("clock", "aws")
def test_each_stop_takes_a_tagged_snapshot_and_the_oldest_go(
        reports: list[dict[str, Any]]) -> None:
    arn = make_db("orders")
    rds = boto3.client("rds")
    # A person's snapshot with our prefix, and one tagged for another database: never deleted.
    rds.create_db_snapshot(DBInstanceIdentifier="orders",
                           DBSnapshotIdentifier="opskit-stop-orders-199901010000")
    rds.create_db_snapshot(
        DBInstanceIdentifier="orders", DBSnapshotIdentifier="opskit-stop-orders-199901020000",
        Tags=[{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY},
              {"Key": SOURCE_KEY, "Value": arn.replace(":db:orders", ":db:other")}])
    for week in range(4):
        run(SATURDAY_NOON + week * WEEK, **SNAPSHOTS)
        stop = next(a for a in reports[-1]["actions"] if a["action"] == "stop")
        assert stop["status"] == "done"
        assert stop["details"]["snapshot"] == (
            f"opskit-stop-orders-{(SATURDAY_NOON + week * WEEK):%Y%m%d%H%M}")
        run(NEXT_MONDAY_NOON + week * WEEK, **SNAPSHOTS)
    found = snapshots_of("orders")
    kept = sorted(name for name, tags in found.items() if tags.get(MANAGED_BY_KEY) == MANAGED_BY
                  and tags.get(SOURCE_KEY) == arn)
    assert kept == [f"opskit-stop-orders-{(SATURDAY_NOON + week * WEEK):%Y%m%d%H%M}"
                    for week in (1, 2, 3)]
    assert found[kept[-1]] == {MANAGED_BY_KEY: MANAGED_BY, SOURCE_KEY: arn,
                               SOURCE_ACCOUNT_KEY: "123456789012",
                               SOURCE_REGION_KEY: "eu-west-1"}
    assert "opskit-stop-orders-199901010000" in found
    assert "opskit-stop-orders-199901020000" in found


@pytest.mark.usefixtures("clock", "aws")
def test_dry_run_names_the_snapshot_and_takes_none(api_calls: ApiCalls,
                                                   reports: list[dict[str, Any]]) -> None:
    make_db("orders")
    api_calls.reset()
    run(SATURDAY_NOON, DRY_RUN="true", **SNAPSHOTS)
    stop = reports[-1]["actions"][0]
    assert (stop["action"], stop["status"]) == ("stop", "planned")
    assert stop["details"]["snapshot"] == f"opskit-stop-orders-{SATURDAY_NOON:%Y%m%d%H%M}"
    assert api_calls.of("rds", "StopDBInstance") == 0
    assert api_calls.of("rds", "DescribeDBSnapshots") == 0
    assert snapshots_of("orders") == {}


@pytest.mark.usefixtures("clock", "aws")
def test_without_the_option_a_stop_takes_no_snapshot(api_calls: ApiCalls) -> None:
    make_db("orders")
    api_calls.reset()
    run(SATURDAY_NOON, RESOURCE_TYPES="rds")
    assert api_calls.of("rds", "DescribeDBSnapshots") == 0
    assert api_calls.of("rds", "DeleteDBSnapshot") == 0
    assert snapshots_of("orders") == {}


@pytest.mark.usefixtures("clock", "aws")
def test_a_snapshot_stop_costs_four_calls(api_calls: ApiCalls) -> None:
    """Stop (with the snapshot), the last-action tag, the snapshot's tags, one listing."""
    make_db("orders")
    api_calls.reset()
    run(SATURDAY_NOON, **SNAPSHOTS)
    assert [api_calls.of("rds", op) for op in (
        "StopDBInstance", "AddTagsToResource", "DescribeDBSnapshots", "DeleteDBSnapshot")] == [
        1, 2, 1, 0]
