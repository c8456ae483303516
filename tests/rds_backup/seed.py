"""Sample databases and snapshots in the moto account, for tests, the event harness and the demo."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from unittest.mock import patch

import boto3

from rds_backup.inventory import QUOTA_NAMES, Quota, RdsReader
from rds_backup.naming import ownership_tags, snapshot_id

REGION = "eu-west-1"
NIGHTLY = {"Backup": "nightly"}


def make_instance(name: str, tags: dict[str, str] | None = None, *,
                  cluster: str | None = None) -> str:
    rds = boto3.client("rds", region_name=REGION)
    extra = {"DBClusterIdentifier": cluster} if cluster else {}
    engine = "aurora-postgresql" if cluster else "postgres"
    response = rds.create_db_instance(
        DBInstanceIdentifier=name, Engine=engine, DBInstanceClass="db.t3.micro",
        AllocatedStorage=20, MasterUsername="admin_user", MasterUserPassword="not-a-secret-1",
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()], **extra)  # type: ignore[arg-type]
    return str(response["DBInstance"]["DBInstanceArn"])


def make_cluster(name: str, tags: dict[str, str] | None = None) -> str:
    rds = boto3.client("rds", region_name=REGION)
    response = rds.create_db_cluster(
        DBClusterIdentifier=name, Engine="aurora-postgresql", MasterUsername="admin_user",
        MasterUserPassword="not-a-secret-1",
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])
    return str(response["DBCluster"]["DBClusterArn"])


def our_snapshot(source: str, day: date, *, cluster: bool = False, retention: int = 30,
                 region: str = REGION) -> str:
    """A snapshot as the backup takes it (taken at 01:00 UTC on `day`)."""
    rds = boto3.client("rds", region_name=region)
    name = snapshot_id(source, day)
    kind = "cluster" if cluster else "db"
    arn = f"arn:aws:rds:{region}:123456789012:{kind}:{source}"
    taken = datetime.combine(day, time(1, 0), tzinfo=UTC)
    tags = [{"Key": k, "Value": v} for k, v in ownership_tags(arn, taken, retention).items()]
    if cluster:
        rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier=name,
                                       DBClusterIdentifier=source, Tags=tags)
    else:
        rds.create_db_snapshot(DBSnapshotIdentifier=name, DBInstanceIdentifier=source, Tags=tags)
    return name


def sample_databases() -> None:
    """orders (tagged), billing (tagged Aurora cluster with a member), scratch (not tagged),
    and a week of orders snapshots from earlier nights."""
    make_instance("orders", NIGHTLY)
    make_cluster("billing", NIGHTLY)
    make_instance("billing-1", NIGHTLY, cluster="billing")
    make_instance("scratch")
    for days in range(1, 8):
        our_snapshot("orders", date(2026, 11, 23) - timedelta(days=days))


def fake_quotas(used: int = 40, maximum: int = 100) -> AbstractContextManager[Any]:
    """moto has no DescribeAccountAttributes: the quota read answers these figures instead."""
    quotas = {kind: Quota(used, maximum) for kind in QUOTA_NAMES}
    return patch.object(RdsReader, "quotas", lambda self: quotas)


def seed(name: str) -> AbstractContextManager[Any]:
    sample_databases()
    return fake_quotas()
