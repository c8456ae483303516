"""Deterministic names and ownership tags: one snapshot per source per day, and the proof that a
snapshot is ours (its tags, checked against its own ARN; never its name alone)."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

PREFIX = "opskit"
INSTANCE = "instance"
CLUSTER = "cluster"
MANAGED_BY_KEY = "opskit:managed-by"
MANAGED_BY = "opskit-rds-backup"
SOURCE_KEY = "opskit:source"
SOURCE_REGION_KEY = "opskit:source-region"
SOURCE_ACCOUNT_KEY = "opskit:source-account"
BACKUP_TYPE_KEY = "opskit:backup-type"
CREATED_AT_KEY = "opskit:created-at"
RETENTION_KEY = "opskit:retention-days"
EXPORT_FAILED_KEY = "opskit:export-failed"
COPY_FAILED_KEY = "opskit:dr-copy-failed"
SNAPSHOT_ID_MAX = 255
EXPORT_TASK_ID_MAX = 60
CONFLICT_SUFFIX_LENGTH = 8
# arn:<partition>:rds:<region>:<account>:<type>:<name>
_RDS_ARN = re.compile(r"^arn:aws[\w-]*:rds:([a-z0-9-]+):(\d{12}):([a-z-]+):(.+)$")
_SOURCE_TYPE = {INSTANCE: "db", CLUSTER: "cluster"}
_SNAPSHOT_TYPE = {INSTANCE: "snapshot", CLUSTER: "cluster-snapshot"}


class BackupType(StrEnum):
    HOME = "home"  # taken in the database's own region
    DR_COPY = "dr-copy"  # our copy of a home snapshot, in the disaster-recovery region


@dataclass(frozen=True, slots=True)
class RdsArn:
    region: str
    account: str
    resource_type: str  # db, cluster, snapshot, cluster-snapshot
    name: str

    @classmethod
    def parse(cls, arn: str) -> RdsArn | None:
        match = _RDS_ARN.fullmatch(arn)
        return cls(*match.groups()) if match else None


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose backup a snapshot is, as its tags prove: the database (by ARN, so the same
    identifier in another region or account is another database) and home snapshot or copy."""

    source_arn: str
    source_region: str
    source_account: str
    backup_type: BackupType


def snapshot_id(source_id: str, day: date) -> str:
    """`opskit-<source>-<yyyy-mm-dd>`: the name a night's snapshot is taken under."""
    return f"{PREFIX}-{source_id}-{day.isoformat()}"[:SNAPSHOT_ID_MAX]


def copy_id(snapshot: str, source_region: str) -> str:
    """A DR copy is named after its snapshot and the region it comes from, so that it never
    takes the name of the DR region's own snapshot of a database with the same identifier."""
    return f"{snapshot}-{source_region}"[:SNAPSHOT_ID_MAX]


def conflict_id(name: str, source_arn: str) -> str:
    """The name used when `name` is held by a snapshot that is not ours for this source:
    deterministic (a hash of the source's ARN), so a re-run finds the same name."""
    digest = hashlib.sha256(source_arn.encode()).hexdigest()[:CONFLICT_SUFFIX_LENGTH]
    return f"{name[:SNAPSHOT_ID_MAX - CONFLICT_SUFFIX_LENGTH - 1]}-{digest}"


def export_task_id(snapshot: str) -> str:
    """Export task ids hold 60 characters: a long snapshot name keeps its start and a hash."""
    if len(snapshot) <= EXPORT_TASK_ID_MAX:
        return snapshot
    digest = hashlib.sha256(snapshot.encode()).hexdigest()[:10]
    return f"{snapshot[:EXPORT_TASK_ID_MAX - 11].rstrip('-')}-{digest}"


def ownership_tags(source_arn: str, created: datetime, retention_days: int,
                   backup_type: BackupType = BackupType.HOME) -> dict[str, str]:
    """The tags that prove a snapshot ours: written when it is taken or copied, never after."""
    source = RdsArn.parse(source_arn)
    if source is None:
        raise ValueError(f"source_arn={source_arn!r} is invalid: expected an RDS ARN")
    return {MANAGED_BY_KEY: MANAGED_BY, SOURCE_KEY: source_arn,
            SOURCE_REGION_KEY: source.region, SOURCE_ACCOUNT_KEY: source.account,
            BACKUP_TYPE_KEY: str(backup_type),
            CREATED_AT_KEY: created.isoformat(timespec="seconds"),
            RETENTION_KEY: str(retention_days)}


def created_at(tags: Mapping[str, str]) -> datetime | None:
    """Our record of when the backup was taken (a copy keeps its snapshot's), or None."""
    with contextlib.suppress(ValueError):
        when = datetime.fromisoformat(tags.get(CREATED_AT_KEY, ""))
        if when.tzinfo is not None:
            return when
    return None


def owner_of(kind: str, identifier: str, arn: str, snapshot_type: str,
             tags: Mapping[str, str]) -> Owner | None:
    """The owner a manual snapshot's tags prove, or None: then it is not ours, whatever its
    name, and is never counted, exported, copied or deleted.

    The tags must agree with each other and with the snapshot's own ARN: the source is a
    database of the snapshot's kind, in the source account (the snapshot's), and a home
    snapshot lives in its source's region, a DR copy in another one."""
    snapshot, source = RdsArn.parse(arn), RdsArn.parse(tags.get(SOURCE_KEY, ""))
    try:
        backup_type = BackupType(tags.get(BACKUP_TYPE_KEY, ""))
    except ValueError:
        return None
    if (snapshot_type != "manual" or not identifier.startswith(f"{PREFIX}-")
            or tags.get(MANAGED_BY_KEY) != MANAGED_BY or snapshot is None or source is None
            or created_at(tags) is None):
        return None
    if (source.resource_type != _SOURCE_TYPE.get(kind)
            or snapshot.resource_type != _SNAPSHOT_TYPE.get(kind)
            or tags.get(SOURCE_REGION_KEY) != source.region
            or tags.get(SOURCE_ACCOUNT_KEY) != source.account
            or snapshot.account != source.account):
        return None
    if (snapshot.region == source.region) != (backup_type == BackupType.HOME):
        return None
    return Owner(tags[SOURCE_KEY], source.region, source.account, backup_type)
