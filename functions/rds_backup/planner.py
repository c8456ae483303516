"""What tonight's backup and each reconcile should do, from what was read (pure, no AWS)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from opskit.actions import Action, Plan
from rds_backup.inventory import CLUSTER, SNAPSHOTTABLE, ExportTask, Quota, Snapshot, Source
from rds_backup.naming import (
    COPY_FAILED_KEY,
    EXPORT_FAILED_KEY,
    RETENTION_KEY,
    export_task_id,
    ownership_tags,
    snapshot_id,
)
from rds_backup.settings import BackupConfig

CREATE = "create-snapshot"
EXPORT = "start-export"
COPY = "copy-to-dr"
DELETE = "delete-snapshot"
# Export tasks still running (they count against the account's concurrent export limit).
RUNNING_EXPORTS = frozenset({"STARTING", "IN_PROGRESS"})
FAILED_EXPORTS = frozenset({"FAILED", "CANCELED", "CANCELING"})
# A copy in these states still occupies a slot of the destination region.
COPYING = frozenset({"creating", "pending", "copying"})


def snapshot_type(kind: str) -> str:
    return "rds:cluster-snapshot" if kind == CLUSTER else "rds:snapshot"


def source_type(kind: str) -> str:
    return "rds:cluster" if kind == CLUSTER else "rds:db"


def plan_snapshots(sources: Iterable[Source], existing: set[str], now: datetime,
                   config: BackupConfig, quotas: Mapping[str, Quota]) -> tuple[Plan, int]:
    """One snapshot per selected database per (UTC) day; returns the plan and how many matched."""
    plan = Plan()
    matched = 0
    for source in sources:
        if not config.selects(source.identifier, source.tags):
            continue
        matched += 1
        name = snapshot_id(source.identifier, now.date())
        tags = ownership_tags(source.arn, now, config.retention_days)
        action = Action(source.identifier, source_type(source.kind), CREATE,
                        "nightly backup", {"snapshot": name, "kind": source.kind,
                                           "tags": tags}, source.tags)
        if source.covered_by is not None:
            plan.skipped.append((action, source.covered_by))
        elif name in existing:
            continue  # already taken today: a re-run is a no-op
        elif source.status not in SNAPSHOTTABLE:
            plan.skipped.append((action, f"status {source.status}: the next run retries"))
        else:
            plan.actions.append(action)
    _check_quota(plan, quotas, config)
    return plan, matched


def _check_quota(plan: Plan, quotas: Mapping[str, Quota], config: BackupConfig) -> None:
    """Refuse creations beyond the quota; note when the account gets near it."""
    kept: list[Action] = []
    planned: dict[str, int] = {}
    for action in plan.actions:
        kind = str(action.details["kind"])
        quota = quotas.get(kind)
        planned[kind] = planned.get(kind, 0) + 1
        if quota is not None and quota.used + planned[kind] > quota.maximum:
            plan.failed.append((action, f"manual snapshot quota reached ({quota.used} of "
                                        f"{quota.maximum} used): delete old snapshots or raise "
                                        "the quota"))
        else:
            kept.append(action)
    plan.actions = kept
    for kind, quota in sorted(quotas.items()):
        after = quota.used + min(planned.get(kind, 0), max(quota.maximum - quota.used, 0))
        if quota.maximum and after * 100 >= quota.maximum * config.quota_warning_percent:
            name = "cluster" if kind == CLUSTER else "instance"
            plan.notes.append(f"{name} manual snapshot quota: {after} of {quota.maximum} used "
                              f"after tonight (warning at {config.quota_warning_percent}%)")


def plan_retention(snapshots: Sequence[Snapshot], now: datetime, config: BackupConfig,
                   busy: set[str], region: str) -> Plan:
    """Delete our snapshots older than their retention, always keeping the newest KEEP_LAST of
    each source (even when old), and never one that is still being exported or copied."""
    plan = Plan()
    by_source: dict[tuple[str, str], list[Snapshot]] = {}
    for snapshot in snapshots:
        by_source.setdefault((snapshot.kind, snapshot.source_id), []).append(snapshot)
    for group in by_source.values():
        newest_first = sorted(group, key=lambda s: (s.created or now, s.identifier),
                              reverse=True)
        for snapshot in newest_first[config.keep_last:]:
            days = _retention_days(snapshot, config)
            if snapshot.created is None or now - snapshot.created <= timedelta(days=days):
                continue
            action = Action(snapshot.identifier, snapshot_type(snapshot.kind), DELETE,
                            f"older than {days} days, {config.keep_last} newer kept",
                            {"kind": snapshot.kind, "created": snapshot.created.isoformat(),
                             "source": snapshot.source_id, "region": region,
                             "source_arn": snapshot.arn}, snapshot.tags)
            if snapshot.status != "available" or snapshot.arn in busy:
                plan.skipped.append((action, f"status {snapshot.status}, or being exported or "
                                             "copied: the next run retries"))
            else:
                plan.actions.append(action)
    return plan


def _retention_days(snapshot: Snapshot, config: BackupConfig) -> int:
    """The retention recorded on the snapshot when it was taken wins over today's setting."""
    try:
        return max(1, int(snapshot.tags.get(RETENTION_KEY, config.retention_days)))
    except ValueError:
        return config.retention_days


def plan_exports(snapshots: Sequence[Snapshot], tasks: Sequence[ExportTask],
                 config: BackupConfig) -> Plan:
    """Start exports of available snapshots that have none, within the free export slots;
    report each failed export once (the snapshot is then tagged)."""
    plan = Plan()
    if config.export is None:
        return plan
    by_id = {task.identifier: task for task in tasks}
    slots = config.max_concurrent - sum(task.status in RUNNING_EXPORTS for task in tasks)
    for snapshot in sorted(snapshots, key=lambda s: s.identifier):
        task_id = export_task_id(snapshot.identifier)
        task = by_id.get(task_id)
        details: dict[str, Any] = {"export_task": task_id, "kind": snapshot.kind,
                                   "source_arn": snapshot.arn,
                                   "s3": f"s3://{config.export.bucket}/{config.export.prefix}"}
        action = Action(snapshot.identifier, snapshot_type(snapshot.kind), EXPORT,
                        "export to S3", details, snapshot.tags)
        if EXPORT_FAILED_KEY in snapshot.tags:
            continue  # reported once already; remove the tag to try again
        if task is not None:
            if task.status in FAILED_EXPORTS:
                plan.failed.append((action, f"export {task.status.lower()}: "
                                            f"{task.failure or 'no cause given'}"))
            continue
        if snapshot.status != "available":
            continue  # still being created: a later reconcile exports it
        if slots <= 0:
            plan.skipped.append((action, f"no free export slot ({config.max_concurrent} at "
                                         "once): the next reconcile starts it"))
            continue
        slots -= 1
        plan.actions.append(action)
    return plan


def plan_copies(snapshots: Sequence[Snapshot], dr_snapshots: Sequence[Snapshot],
                config: BackupConfig) -> Plan:
    """Copy available snapshots missing in the DR region, within the free copy slots.
    An encrypted snapshot needs a key in the DR region: without one it fails, clearly."""
    plan = Plan()
    if config.dr_region is None:
        return plan
    present = {s.identifier for s in dr_snapshots}
    slots = config.max_concurrent - sum(s.status in COPYING for s in dr_snapshots)
    for snapshot in sorted(snapshots, key=lambda s: s.identifier):
        if (snapshot.identifier in present or snapshot.status != "available"
                or COPY_FAILED_KEY in snapshot.tags):
            continue  # there, not ready, or its failure was reported (remove the tag to retry)
        action = Action(snapshot.identifier, snapshot_type(snapshot.kind), COPY,
                        f"disaster-recovery copy to {config.dr_region}",
                        {"kind": snapshot.kind, "source_arn": snapshot.arn,
                         "region": config.dr_region, "encrypted": snapshot.encrypted},
                        snapshot.tags)
        if snapshot.encrypted and config.dr_kms_key_arn is None:
            plan.failed.append((action, f"encrypted snapshot: set DR_KMS_KEY_ARN to a KMS key in "
                                        f"{config.dr_region} to copy it"))
        elif slots <= 0:
            plan.skipped.append((action, f"no free copy slot ({config.max_concurrent} at once): "
                                         "the next reconcile starts it"))
        else:
            slots -= 1
            plan.actions.append(action)
    return plan
