"""The snapshot a DB instance stop can take (RDS_SNAPSHOT_ON_STOP), its ownership tags, and the
retention that keeps each database's newest few.

StopDBInstance takes the snapshot itself when given `DBSnapshotIdentifier` ("the DB Snapshot
created immediately before the DB instance is stopped", RDS API reference). It cannot tag it,
so the snapshot is tagged right after: whose it is (the database's ARN, account and region) and
who made it. Retention deletes only snapshots whose tags say both, read again just before the
delete; a snapshot with our name but not our tags is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from opskit.tags import tags_to_dict

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_rds.type_defs import DBSnapshotTypeDef

PREFIX = "opskit-stop-"
MANAGED_BY_KEY = "opskit:managed-by"
MANAGED_BY = "opskit-instance-scheduler"
SOURCE_KEY = "opskit:source"
SOURCE_ACCOUNT_KEY = "opskit:source-account"
SOURCE_REGION_KEY = "opskit:source-region"
TAG_KEYS = (MANAGED_BY_KEY, SOURCE_KEY, SOURCE_ACCOUNT_KEY, SOURCE_REGION_KEY)
# arn:<partition>:rds:<region>:<account>:db:<identifier>
_DB_ARN = re.compile(r"^(arn:aws[\w-]*:rds:([a-z0-9-]+):(\d{12})):db:([A-Za-z][A-Za-z0-9-]*)$")


class StopSnapshotError(ValueError):
    """A database ARN that does not name a DB instance: no snapshot is named after it."""


@dataclass(frozen=True, slots=True)
class StopSnapshot:
    """The snapshot one stop takes: its identifier, its ARN and the tags that prove it ours."""

    identifier: str
    arn: str
    tags: dict[str, str]


def stop_snapshot(db_arn: str, now: datetime) -> StopSnapshot:
    """`opskit-stop-<db>-<YYYYMMDDHHMM>` (UTC): letters, digits and single hyphens, at most
    255 characters, as RDS requires of a snapshot identifier."""
    match = _DB_ARN.fullmatch(db_arn)
    if match is None:
        raise StopSnapshotError(f"{db_arn!r} is not a DB instance ARN")
    prefix, region, account, db = match.groups()
    identifier = f"{PREFIX}{db.rstrip('-')}-{now.astimezone(UTC):%Y%m%d%H%M}"
    return StopSnapshot(identifier, f"{prefix}:snapshot:{identifier}", {
        MANAGED_BY_KEY: MANAGED_BY, SOURCE_KEY: db_arn, SOURCE_ACCOUNT_KEY: account,
        SOURCE_REGION_KEY: region})


def is_ours(snapshot: DBSnapshotTypeDef, db_arn: str) -> bool:
    """Ours, and of this database, by its tags (a name alone proves nothing)."""
    tags = tags_to_dict(snapshot.get("TagList"))
    match = _DB_ARN.fullmatch(db_arn)
    return (match is not None and tags.get(MANAGED_BY_KEY) == MANAGED_BY
            and tags.get(SOURCE_KEY) == db_arn and tags.get(SOURCE_ACCOUNT_KEY) == match[3]
            and tags.get(SOURCE_REGION_KEY) == match[2]
            and snapshot.get("DBSnapshotIdentifier", "").startswith(PREFIX)
            and snapshot.get("SnapshotType") == "manual")


def expired(snapshots: Sequence[DBSnapshotTypeDef], db_arn: str, keep: int,
            now: datetime) -> list[str]:
    """The identifiers to delete: our available snapshots of this database beyond the newest
    `keep` of ours (one still being created counts among the newest, and is never deleted)."""
    ours = [s for s in snapshots if is_ours(s, db_arn)]
    ours.sort(key=lambda s: s.get("SnapshotCreateTime") or now, reverse=True)
    return [s["DBSnapshotIdentifier"] for s in ours[keep:] if s.get("Status") == "available"]


def prune(rds: RDSClient, db_identifier: str, db_arn: str, keep: int,
          now: datetime) -> list[str]:
    """Deletes this database's stop snapshots beyond the newest `keep`; returns what it
    deleted. The listing is read just before the deletes, with the tags each delete relies
    on; the role also denies a delete of a snapshot without our managed-by tag."""
    pages = rds.get_paginator("describe_db_snapshots").paginate(
        DBInstanceIdentifier=db_identifier, SnapshotType="manual")
    snapshots = [s for page in pages for s in page["DBSnapshots"]]
    deleted = []
    for identifier in expired(snapshots, db_arn, keep, now):
        rds.delete_db_snapshot(DBSnapshotIdentifier=identifier)
        deleted.append(identifier)
    return deleted
