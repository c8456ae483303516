"""Sample databases and snapshots in the moto account, for tests, the event harness and the demo."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from unittest.mock import patch

import boto3

from rds_backup.inventory import QUOTA_NAMES, Quota, RdsReader
from rds_backup.naming import snapshot_id

REGION = "eu-west-1"
DR_REGION = "eu-central-1"
ACCOUNT = "123456789012"
NIGHTLY = {"Backup": "nightly"}


def make_instance(name: str, tags: dict[str, str] | None = None, *,
                  cluster: str | None = None, region: str = REGION) -> str:
    rds = boto3.client("rds", region_name=region)
    extra = {"DBClusterIdentifier": cluster} if cluster else {}
    engine = "aurora-postgresql" if cluster else "postgres"
    response = rds.create_db_instance(
        DBInstanceIdentifier=name, Engine=engine, DBInstanceClass="db.t3.micro",
        AllocatedStorage=20, MasterUsername="admin_user", MasterUserPassword="not-a-secret-1",
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()], **extra)  # type: ignore[arg-type]
    return str(response["DBInstance"]["DBInstanceArn"])


def make_cluster(name: str, tags: dict[str, str] | None = None, *,
                 region: str = REGION) -> str:
    rds = boto3.client("rds", region_name=region)
    response = rds.create_db_cluster(
        DBClusterIdentifier=name, Engine="aurora-postgresql", MasterUsername="admin_user",
        MasterUserPassword="not-a-secret-1",
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])
    return str(response["DBCluster"]["DBClusterArn"])


def database_arn(source: str, *, cluster: bool = False, region: str = REGION) -> str:
    return f"arn:aws:rds:{region}:{ACCOUNT}:{'cluster' if cluster else 'db'}:{source}"


def our_tags(source_arn: str, taken: datetime, retention: int = 30,
             backup_type: str = "home") -> dict[str, str]:
    """The tags that prove a snapshot ours, written out (what the backup must write)."""
    region, account = source_arn.split(":")[3:5]
    return {"opskit:managed-by": "opskit-rds-backup", "opskit:source": source_arn,
            "opskit:source-region": region, "opskit:source-account": account,
            "opskit:backup-type": backup_type,
            "opskit:created-at": taken.isoformat(timespec="seconds"),
            "opskit:retention-days": str(retention)}


def taken_on(day: date) -> datetime:
    return datetime.combine(day, time(1, 0), tzinfo=UTC)


def our_snapshot(source: str, day: date, *, cluster: bool = False, retention: int = 30,
                 region: str = REGION, tags: dict[str, str] | None = None) -> str:
    """A snapshot as the backup takes it (taken at 01:00 UTC on `day`); `tags` replaces ours."""
    rds = boto3.client("rds", region_name=region)
    name = snapshot_id(source, day)
    arn = database_arn(source, cluster=cluster, region=region)
    written = tags if tags is not None else our_tags(arn, taken_on(day), retention)
    listed = [{"Key": k, "Value": v} for k, v in written.items()]
    if cluster:
        rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier=name,
                                       DBClusterIdentifier=source, Tags=listed)
    else:
        rds.create_db_snapshot(DBSnapshotIdentifier=name, DBInstanceIdentifier=source,
                               Tags=listed)
    return name


def our_copy(source: str, day: date, *, retention: int = 30, source_region: str = REGION,
             region: str = DR_REGION) -> str:
    """The DR copy of our snapshot of `source` taken on `day` (which must exist), as the
    backup makes it: named after the snapshot and its region, tagged as a DR copy."""
    home = snapshot_id(source, day)
    name = f"{home}-{source_region}"
    tags = our_tags(database_arn(source, region=source_region), taken_on(day), retention,
                    "dr-copy")
    boto3.client("rds", region_name=region).copy_db_snapshot(
        SourceDBSnapshotIdentifier=f"arn:aws:rds:{source_region}:{ACCOUNT}:snapshot:{home}",
        TargetDBSnapshotIdentifier=name, SourceRegion=source_region,
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
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
