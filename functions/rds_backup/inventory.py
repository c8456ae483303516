"""Reads: the databases to back up, our snapshots, export tasks and the snapshot quota."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from opskit.tags import tags_to_dict
from rds_backup.naming import CREATED_AT_KEY, is_ours

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient

INSTANCE = "instance"
CLUSTER = "cluster"
PAGE_SIZE = 100  # the RDS maximum for Describe* calls
# Instances and clusters can be snapshotted in these states; others are retried the next night.
SNAPSHOTTABLE = frozenset({"available", "stopped", "backing-up", "storage-optimization"})
QUOTA_NAMES = {INSTANCE: "ManualSnapshots", CLUSTER: "ManualClusterSnapshots"}


@dataclass(frozen=True, slots=True)
class Source:
    kind: str
    identifier: str
    arn: str
    status: str
    encrypted: bool
    tags: Mapping[str, str] = field(default_factory=dict)
    # Why this database is not backed up on its own (an Aurora member, a replica), or None.
    covered_by: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    kind: str
    identifier: str
    arn: str
    source_id: str
    status: str
    encrypted: bool
    created: datetime | None
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_api(cls, kind: str, raw: Mapping[str, Any]) -> Snapshot:
        tags = tags_to_dict(raw.get("TagList"))
        created: datetime | None = raw.get("SnapshotCreateTime")
        if CREATED_AT_KEY in tags:  # our own record survives copies (whose time is the copy's)
            with contextlib.suppress(ValueError):
                created = datetime.fromisoformat(tags[CREATED_AT_KEY])
        if kind == INSTANCE:
            return cls(kind, raw["DBSnapshotIdentifier"], raw["DBSnapshotArn"],
                       raw.get("DBInstanceIdentifier", ""), raw.get("Status", ""),
                       bool(raw.get("Encrypted")), created, tags)
        return cls(kind, raw["DBClusterSnapshotIdentifier"], raw["DBClusterSnapshotArn"],
                   raw.get("DBClusterIdentifier", ""), raw.get("Status", ""),
                   bool(raw.get("StorageEncrypted")), created, tags)


@dataclass(frozen=True, slots=True)
class ExportTask:
    identifier: str
    source_arn: str
    status: str
    failure: str = ""


@dataclass(frozen=True, slots=True)
class Quota:
    used: int
    maximum: int


class RdsReader:
    """All reads of one region, paginated."""

    def __init__(self, rds: RDSClient) -> None:
        self.rds = rds

    def sources(self) -> list[Source]:
        found: list[Source] = []
        for page in self.rds.get_paginator("describe_db_clusters").paginate(
                PaginationConfig={"PageSize": PAGE_SIZE}):
            for cluster in page.get("DBClusters", []):
                found.append(Source(CLUSTER, cluster["DBClusterIdentifier"],
                                    cluster["DBClusterArn"], cluster.get("Status", ""),
                                    bool(cluster.get("StorageEncrypted")),
                                    tags_to_dict(cluster.get("TagList"))))
        for instances in self.rds.get_paginator("describe_db_instances").paginate(
                PaginationConfig={"PageSize": PAGE_SIZE}):
            for db in instances.get("DBInstances", []):
                covered = None
                if db.get("DBClusterIdentifier"):
                    covered = f"member of cluster {db['DBClusterIdentifier']} (backed up there)"
                elif db.get("ReadReplicaSourceDBInstanceIdentifier"):
                    covered = (f"read replica of {db['ReadReplicaSourceDBInstanceIdentifier']} "
                               "(back up the source)")
                found.append(Source(INSTANCE, db["DBInstanceIdentifier"], db["DBInstanceArn"],
                                    db.get("DBInstanceStatus", ""),
                                    bool(db.get("StorageEncrypted")),
                                    tags_to_dict(db.get("TagList")), covered))
        return found

    def our_snapshots(self) -> list[Snapshot]:
        """Manual snapshots with our ownership tag and name (nothing else is ever touched)."""
        found: list[Snapshot] = []
        pages: list[tuple[str, str, str]] = [
            (INSTANCE, "describe_db_snapshots", "DBSnapshots"),
            (CLUSTER, "describe_db_cluster_snapshots", "DBClusterSnapshots")]
        for kind, operation, key in pages:
            paginator = self.rds.get_paginator(operation)  # type: ignore[call-overload]
            for page in paginator.paginate(SnapshotType="manual",
                                           PaginationConfig={"PageSize": PAGE_SIZE}):
                for raw in page.get(key, []):
                    snapshot = Snapshot.from_api(kind, raw)
                    if is_ours(snapshot.identifier, raw.get("SnapshotType", ""), snapshot.tags):
                        found.append(snapshot)
        return found

    def export_tasks(self) -> list[ExportTask]:
        tasks: list[ExportTask] = []
        for page in self.rds.get_paginator("describe_export_tasks").paginate(
                PaginationConfig={"PageSize": PAGE_SIZE}):
            for task in page.get("ExportTasks", []):
                tasks.append(ExportTask(task.get("ExportTaskIdentifier", ""),
                                        task.get("SourceArn", ""),
                                        str(task.get("Status", "")).upper(),
                                        task.get("FailureCause", "")))
        return tasks

    def quotas(self) -> dict[str, Quota]:
        """Manual snapshot quotas by kind; empty when the account does not say."""
        try:
            response = self.rds.describe_account_attributes()
        except ClientError:
            return {}
        by_name = {q.get("AccountQuotaName"): q for q in response.get("AccountQuotas", [])}
        return {kind: Quota(int(by_name[name].get("Used", 0)), int(by_name[name].get("Max", 0)))
                for kind, name in QUOTA_NAMES.items() if name in by_name}
