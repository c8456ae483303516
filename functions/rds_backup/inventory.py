"""Reads: the databases to back up, the manual snapshots (ours known by their tags), export tasks
and the snapshot quota."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from opskit.actions import error_code
from opskit.tags import tags_to_dict
from rds_backup.naming import CLUSTER, INSTANCE, BackupType, Owner, created_at, owner_of

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient

PAGE_SIZE = 100  # the RDS maximum for Describe* calls
# Instances and clusters can be snapshotted in these states; others are retried the next night.
SNAPSHOTTABLE = frozenset({"available", "stopped", "backing-up", "storage-optimization"})
QUOTA_NAMES = {INSTANCE: "ManualSnapshots", CLUSTER: "ManualClusterSnapshots"}
# A snapshot read again by its identifier that is no longer there.
NOT_FOUND = frozenset({"DBSnapshotNotFound", "DBSnapshotNotFoundFault",
                       "DBClusterSnapshotNotFoundFault"})
_PAGES = {INSTANCE: ("describe_db_snapshots", "DBSnapshots"),
          CLUSTER: ("describe_db_cluster_snapshots", "DBClusterSnapshots")}


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
    # Whose backup its tags prove it to be; None for any snapshot that is not ours.
    owner: Owner | None = None

    @classmethod
    def from_api(cls, kind: str, raw: Mapping[str, Any]) -> Snapshot:
        tags = tags_to_dict(raw.get("TagList"))
        # Our own record survives copies (whose create time is the copy's).
        created: datetime | None = created_at(tags) or raw.get("SnapshotCreateTime")
        if kind == INSTANCE:
            identifier, arn = raw["DBSnapshotIdentifier"], raw["DBSnapshotArn"]
            source_id, encrypted = raw.get("DBInstanceIdentifier", ""), raw.get("Encrypted")
        else:
            identifier, arn = raw["DBClusterSnapshotIdentifier"], raw["DBClusterSnapshotArn"]
            source_id, encrypted = raw.get("DBClusterIdentifier", ""), raw.get("StorageEncrypted")
        owner = owner_of(kind, identifier, arn, raw.get("SnapshotType", ""), tags)
        return cls(kind, identifier, arn, source_id, raw.get("Status", ""), bool(encrypted),
                   created, tags, owner)

    def is_backup_of(self, source_region: str, backup_type: BackupType) -> bool:
        """Ours, of a database of `source_region`, as a home snapshot or a DR copy."""
        return (self.owner is not None and self.owner.source_region == source_region
                and self.owner.backup_type == backup_type)


@dataclass(frozen=True, slots=True)
class RegionSnapshots:
    """Every manual snapshot of one region, ours or not: ours are found by their tags, and the
    others are still needed to know which names are taken."""

    region: str
    snapshots: Sequence[Snapshot] = ()
    _by_name: dict[tuple[str, str], Snapshot] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {(s.kind, s.identifier): s for s in self.snapshots})

    def backups_of(self, source_region: str, backup_type: BackupType) -> list[Snapshot]:
        return [s for s in self.snapshots if s.is_backup_of(source_region, backup_type)]

    def holder(self, kind: str, name: str) -> Snapshot | None:
        """The snapshot that holds `name` (instance and cluster snapshots have their own)."""
        return self._by_name.get((kind, name))


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

    def snapshots(self) -> RegionSnapshots:
        """Every manual snapshot of the region with its tags (they come in the listing: no call
        per snapshot); which are ours is decided by those tags (Snapshot.owner)."""
        found: list[Snapshot] = []
        for kind, (operation, key) in _PAGES.items():
            paginator = self.rds.get_paginator(operation)  # type: ignore[call-overload]
            for page in paginator.paginate(SnapshotType="manual",
                                           PaginationConfig={"PageSize": PAGE_SIZE}):
                found.extend(Snapshot.from_api(kind, raw) for raw in page.get(key, []))
        return RegionSnapshots(self.rds.meta.region_name, found)

    def snapshot(self, kind: str, identifier: str) -> Snapshot | None:
        """One snapshot read again by its identifier, with its tags; None once it is gone."""
        try:
            if kind == CLUSTER:
                raws: Sequence[Mapping[str, Any]] = self.rds.describe_db_cluster_snapshots(
                    DBClusterSnapshotIdentifier=identifier).get("DBClusterSnapshots", [])
            else:
                raws = self.rds.describe_db_snapshots(
                    DBSnapshotIdentifier=identifier).get("DBSnapshots", [])
        except ClientError as exc:
            if error_code(exc) in NOT_FOUND:
                return None
            raise
        found = [Snapshot.from_api(kind, raw) for raw in raws]
        return next((s for s in found if s.identifier == identifier), None)

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
