"""Deterministic names and ownership tags: one snapshot per source per day, ours recognisable."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date, datetime

PREFIX = "opskit"
MANAGED_BY_KEY = "opskit:managed-by"
MANAGED_BY = "opskit-rds-backup"
SOURCE_KEY = "opskit:source"
CREATED_AT_KEY = "opskit:created-at"
RETENTION_KEY = "opskit:retention-days"
EXPORT_FAILED_KEY = "opskit:export-failed"
COPY_FAILED_KEY = "opskit:dr-copy-failed"
SNAPSHOT_ID_MAX = 255
EXPORT_TASK_ID_MAX = 60
_DAY = re.compile(r"-(\d{4}-\d{2}-\d{2})$")


def snapshot_id(source_id: str, day: date) -> str:
    """`opskit-<source>-<yyyy-mm-dd>`: a second run the same day finds it and does nothing."""
    return f"{PREFIX}-{source_id}-{day.isoformat()}"[:SNAPSHOT_ID_MAX]


def day_of(identifier: str) -> date | None:
    match = _DAY.search(identifier)
    try:
        return date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        return None


def export_task_id(snapshot: str) -> str:
    """Export task ids hold 60 characters: a long snapshot name keeps its start and a hash."""
    if len(snapshot) <= EXPORT_TASK_ID_MAX:
        return snapshot
    digest = hashlib.sha256(snapshot.encode()).hexdigest()[:10]
    return f"{snapshot[:EXPORT_TASK_ID_MAX - 11].rstrip('-')}-{digest}"


def ownership_tags(source_arn: str, created: datetime, retention_days: int) -> dict[str, str]:
    return {MANAGED_BY_KEY: MANAGED_BY, SOURCE_KEY: source_arn,
            CREATED_AT_KEY: created.isoformat(timespec="seconds"),
            RETENTION_KEY: str(retention_days)}


def is_ours(identifier: str, snapshot_type: str, tags: Mapping[str, str]) -> bool:
    """Only manual snapshots with our tag and our name: never automated, shared or others'."""
    return (snapshot_type == "manual" and tags.get(MANAGED_BY_KEY) == MANAGED_BY
            and identifier.startswith(f"{PREFIX}-"))
