"""What tonight's backup and each reconcile should do, from what was read (pure, no AWS)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from opskit.actions import Action, Plan
from opskit.tags import is_exempt
from rds_backup.inventory import SNAPSHOTTABLE, ExportTask, Quota, RegionSnapshots, Snapshot, Source
from rds_backup.naming import (
    CLUSTER,
    COPY_FAILED_KEY,
    EXPORT_FAILED_KEY,
    RETENTION_KEY,
    BackupType,
    conflict_id,
    copy_id,
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


@dataclass(frozen=True, slots=True)
class TakeSnapshot:
    """What a CREATE call sends: the snapshot's name and our ownership tags."""

    kind: str  # CLUSTER or an instance
    snapshot: str
    tags: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class FromSnapshot:
    """What an export, copy or delete call sends about the snapshot it works on."""

    kind: str
    source_arn: str


@dataclass(frozen=True, slots=True)
class StartExport(FromSnapshot):
    task_id: str


@dataclass(frozen=True, slots=True)
class CopySnapshot(FromSnapshot):
    copy: str
    encrypted: bool
    tags: Mapping[str, str]


@dataclass
class BackupPlan(Plan):
    """A plan, and the names it wanted that a snapshot not ours for that database holds (each
    one is reported, at critical severity)."""

    conflicts: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Expiry:
    """Why a snapshot may be deleted, as listed: re-checked on a fresh read just before."""

    snapshot: Snapshot
    # The newest KEEP_LAST of its database (same owner, same region), all newer than it.
    kept: tuple[Snapshot, ...]


@dataclass
class RetentionPlan(Plan):
    expiries: dict[tuple[str, str], Expiry] = field(default_factory=dict)  # (kind, identifier)


def snapshot_type(kind: str) -> str:
    return "rds:cluster-snapshot" if kind == CLUSTER else "rds:snapshot"


def source_type(kind: str) -> str:
    return "rds:cluster" if kind == CLUSTER else "rds:db"


def _held_by(holder: Snapshot) -> str:
    if holder.owner is None:
        return f"a snapshot of {holder.source_id or 'an unknown database'} without our tags"
    return f"our {holder.owner.backup_type} snapshot of {holder.owner.source_arn}"


def _free_name(wanted: str, kind: str, source_arn: str, region: RegionSnapshots,
               what: str) -> tuple[str | None, str | None]:
    """The name to take `what` under, and the conflict to report when `wanted` is held by a
    snapshot that is not this backup: then the backup takes a name derived from the source's
    ARN (the same at every run); None when that one is held too."""
    holder = region.holder(kind, wanted)
    if holder is None:
        return wanted, None
    other = conflict_id(wanted, source_arn)
    if region.holder(kind, other) is None:
        return other, (f"{wanted} in {region.region} is taken by {_held_by(holder)}: "
                       f"{what} is named {other} instead")
    return None, (f"{wanted} and {other} in {region.region} are taken by snapshots that are "
                  f"not ours for {source_arn}: {what} is not taken until one is freed")


def _claim_name(plan: BackupPlan, action: Action, wanted: str, *, kind: str, source_arn: str,
                region: RegionSnapshots, what: str) -> str | None:
    """_free_name, with what it finds recorded in the plan: the conflict (reported critical),
    and the action failed when no name is free."""
    chosen, conflict = _free_name(wanted, kind, source_arn, region, what)
    if conflict is not None:
        plan.conflicts.append(conflict)
    if chosen is None:
        plan.failed.append((action, str(conflict)))
    return chosen


def plan_snapshots(sources: Iterable[Source], snapshots: RegionSnapshots, now: datetime,
                   config: BackupConfig, quotas: Mapping[str, Quota]) -> tuple[BackupPlan, int]:
    """One snapshot per selected database per (UTC) day; returns the plan and how many matched.
    A database has tonight's snapshot when one of this region's snapshots is proven by its tags
    to be its home snapshot of the day: names prove nothing."""
    plan = BackupPlan()
    matched = 0
    day = now.astimezone(UTC).date()
    taken_today = {s.owner.source_arn
                   for s in snapshots.backups_of(snapshots.region, BackupType.HOME)
                   if s.owner is not None and s.created is not None
                   and s.created.astimezone(UTC).date() == day}
    for source in sources:
        if not config.selects(source.identifier, source.tags):
            continue
        matched += 1
        name = snapshot_id(source.identifier, day)
        tags = ownership_tags(source.arn, now, config.retention_days)
        action = Action(source.identifier, source_type(source.kind), CREATE,
                        "nightly backup", {"snapshot": name, "kind": source.kind,
                                           "tags": tags}, source.tags,
                        TakeSnapshot(source.kind, name, tags))
        if source.covered_by is not None:
            plan.skipped.append((action, source.covered_by))
        elif source.arn in taken_today:
            continue  # already taken today: a re-run is a no-op
        elif source.status not in SNAPSHOTTABLE:
            plan.skipped.append((action, f"status {source.status}: the next run retries"))
        elif is_exempt(source.tags, config.common.exemption_tag_key):
            plan.actions.append(action)  # the executor skips it: no name is needed
        else:
            chosen = _claim_name(plan, action, name, kind=source.kind, source_arn=source.arn,
                                 region=snapshots, what=f"the backup of {source.identifier}")
            if chosen is not None:
                plan.actions.append(Action(
                    action.resource, action.resource_type, CREATE, action.reason,
                    {**action.details, "snapshot": chosen}, source.tags,
                    TakeSnapshot(source.kind, chosen, tags)))
    _check_quota(plan, quotas, config)
    return plan, matched


def _check_quota(plan: Plan, quotas: Mapping[str, Quota], config: BackupConfig) -> None:
    """Refuse creations beyond the quota; note when the account gets near it."""
    kept: list[Action] = []
    planned: dict[str, int] = {}
    for action in plan.actions:
        kind = action.params_as(TakeSnapshot).kind
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
                   busy: set[str], region: str) -> RetentionPlan:
    """Delete our snapshots older than their retention, always keeping the newest KEEP_LAST of
    each database (even when old), and never one that is still being exported or copied.
    `snapshots` are those of one region and one kind of backup (home snapshots, or DR copies):
    a database is its ARN, so the same identifier elsewhere is another database, and a snapshot
    without our tags (owner None) is never counted nor deleted."""
    plan = RetentionPlan()
    by_source: dict[tuple[str, str, str], list[Snapshot]] = {}
    for snapshot in snapshots:
        if snapshot.owner is not None:
            key = (snapshot.kind, snapshot.owner.source_arn, str(snapshot.owner.backup_type))
            by_source.setdefault(key, []).append(snapshot)
    for group in by_source.values():
        newest_first = sorted(group, key=lambda s: (s.created or now, s.identifier),
                              reverse=True)
        kept = tuple(newest_first[:config.keep_last])
        for snapshot in newest_first[config.keep_last:]:
            days = _retention_days(snapshot, config)
            if snapshot.created is None or now - snapshot.created <= timedelta(days=days):
                continue
            action = Action(snapshot.identifier, snapshot_type(snapshot.kind), DELETE,
                            f"older than {days} days, {config.keep_last} newer kept",
                            {"kind": snapshot.kind, "created": snapshot.created.isoformat(),
                             "source": snapshot.source_id, "region": region,
                             "source_arn": snapshot.arn}, snapshot.tags,
                            FromSnapshot(snapshot.kind, snapshot.arn))
            if snapshot.status != "available" or snapshot.arn in busy:
                plan.skipped.append((action, f"status {snapshot.status}, or being exported or "
                                             "copied: the next run retries"))
            else:
                plan.actions.append(action)
                plan.expiries[(snapshot.kind, snapshot.identifier)] = Expiry(snapshot, kept)
    return plan


def recheck_expiry(expiry: Expiry, fresh: Snapshot | None,
                   kept: Mapping[str, Snapshot | None], now: datetime,
                   config: BackupConfig) -> str | None:
    """Why a snapshot planned for deletion must be kept after all, from a fresh read of it and
    of the newer ones kept for its database (`kept`, by identifier); None if it may go.
    Anything changed since the listing keeps it: the next run decides again."""
    listed = expiry.snapshot
    if fresh is None:
        return "gone since it was listed: nothing to delete"
    if fresh.owner is None or fresh.owner != listed.owner:
        return "its ownership tags changed since it was listed: kept"
    if fresh.status != "available":
        return f"status {fresh.status} since it was listed: the next run retries"
    days = _retention_days(fresh, config)
    if fresh.created is None or now - fresh.created <= timedelta(days=days):
        return f"no longer older than its retention ({days} days) when read again: kept"
    for newer in expiry.kept:
        again = kept.get(newer.identifier)
        if (again is None or again.owner != listed.owner or again.created is None
                or (again.created, again.identifier) <= (fresh.created, fresh.identifier)):
            return (f"{newer.identifier}, one of the {config.keep_last} newest kept, is gone "
                    "or changed since it was listed: kept")
    return None


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
                        "export to S3", details, snapshot.tags,
                        StartExport(snapshot.kind, snapshot.arn, task_id))
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


def plan_copies(snapshots: Sequence[Snapshot], dr: RegionSnapshots, config: BackupConfig,
                source_region: str) -> BackupPlan:
    """Copy available snapshots that have no DR copy yet, within the free copy slots. A copy is
    found by its tags (the same database and time, tagged as a DR copy from `source_region`),
    never by its name. An encrypted snapshot needs a key in the DR region: without one it
    fails, clearly."""
    plan = BackupPlan()
    if config.dr_region is None:
        return plan
    copied = {(s.kind, s.owner.source_arn, s.created)
              for s in dr.backups_of(source_region, BackupType.DR_COPY) if s.owner is not None}
    slots = config.max_concurrent - sum(
        s.status in COPYING for s in dr.snapshots
        if s.owner is not None and s.owner.backup_type == BackupType.DR_COPY)
    for snapshot in sorted(snapshots, key=lambda s: s.identifier):
        owner = snapshot.owner
        if (owner is None or snapshot.created is None
                or (snapshot.kind, owner.source_arn, snapshot.created) in copied
                or snapshot.status != "available" or COPY_FAILED_KEY in snapshot.tags):
            continue  # there, not ready, or its failure was reported (remove the tag to retry)
        name = copy_id(snapshot.identifier, source_region)
        tags = ownership_tags(owner.source_arn, snapshot.created,
                              _retention_days(snapshot, config), BackupType.DR_COPY)
        action = Action(snapshot.identifier, snapshot_type(snapshot.kind), COPY,
                        f"disaster-recovery copy to {config.dr_region}",
                        {"kind": snapshot.kind, "source_arn": snapshot.arn,
                         "region": config.dr_region, "encrypted": snapshot.encrypted,
                         "copy": name, "tags": tags},
                        snapshot.tags,
                        CopySnapshot(snapshot.kind, snapshot.arn, name, snapshot.encrypted, tags))
        if snapshot.encrypted and config.dr_kms_key_arn is None:
            plan.failed.append((action, f"encrypted snapshot: set DR_KMS_KEY_ARN to a KMS key in "
                                        f"{config.dr_region} to copy it"))
            continue
        if slots <= 0:
            plan.skipped.append((action, f"no free copy slot ({config.max_concurrent} at once): "
                                         "the next reconcile starts it"))
            continue
        chosen = _claim_name(plan, action, name, kind=snapshot.kind, source_arn=owner.source_arn,
                             region=dr, what=f"the DR copy of {snapshot.identifier}")
        if chosen is None:
            continue
        slots -= 1
        plan.actions.append(Action(action.resource, action.resource_type, COPY, action.reason,
                                   {**action.details, "copy": chosen}, snapshot.tags,
                                   replace(action.params_as(CopySnapshot), copy=chosen)))
    return plan
