"""One target's backup run: snapshots, retention, exports and DR copies, through the executor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from opskit.actions import Action, Executor, Outcome, Plan, Status, error_code
from opskit.observability import logger
from opskit.runner import TargetRun
from opskit.tags import dict_to_tags
from rds_backup.inventory import RdsReader, Snapshot
from rds_backup.naming import CLUSTER, COPY_FAILED_KEY, EXPORT_FAILED_KEY, BackupType
from rds_backup.planner import (
    COPY,
    CREATE,
    DELETE,
    EXPORT,
    RUNNING_EXPORTS,
    CopySnapshot,
    FromSnapshot,
    RetentionPlan,
    StartExport,
    TakeSnapshot,
    plan_copies,
    plan_exports,
    plan_retention,
    plan_snapshots,
    recheck_expiry,
)
from rds_backup.settings import BackupConfig, ExportSettings

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient


class Mode(StrEnum):
    BACKUP = "backup"  # nightly: snapshots, retention, then exports and copies of what is ready
    RECONCILE = "reconcile"  # hourly: exports and copies of snapshots that became available


# "Already exists" is not success for a snapshot or a copy: the name may be someone else's
# snapshot (ours are found by their tags before any is taken), so it fails and is reported.
IDEMPOTENT: dict[str, tuple[str, ...]] = {
    CREATE: (),
    EXPORT: ("ExportTaskAlreadyExists", "ExportTaskAlreadyExistsFault"),
    COPY: (),
    DELETE: ("DBSnapshotNotFound", "DBSnapshotNotFoundFault", "DBClusterSnapshotNotFoundFault"),
}


class Actuator:
    """The writes, one action at a time (each is one RDS call)."""

    def __init__(self, rds: RDSClient, config: BackupConfig, home_region: str) -> None:
        self.rds, self.config, self.home_region = rds, config, home_region

    def create(self, batch: Sequence[Action]) -> None:
        for action in batch:
            take = action.params_as(TakeSnapshot)
            tags = dict_to_tags(take.tags)
            if take.kind == CLUSTER:
                self.rds.create_db_cluster_snapshot(
                    DBClusterSnapshotIdentifier=take.snapshot,
                    DBClusterIdentifier=action.resource, Tags=tags)  # type: ignore[arg-type]
            else:
                self.rds.create_db_snapshot(DBSnapshotIdentifier=take.snapshot,
                                            DBInstanceIdentifier=action.resource, Tags=tags)  # type: ignore[arg-type]

    def export(self, export: ExportSettings, batch: Sequence[Action]) -> None:
        for action in batch:
            task = action.params_as(StartExport)
            self.rds.start_export_task(
                ExportTaskIdentifier=task.task_id,
                SourceArn=task.source_arn, S3BucketName=export.bucket,
                S3Prefix=export.prefix, IamRoleArn=export.role_arn, KmsKeyId=export.kms_key_arn)

    def copy(self, dr_rds: RDSClient, batch: Sequence[Action]) -> None:
        for action in batch:
            copy = action.params_as(CopySnapshot)
            key: dict[str, Any] = ({"KmsKeyId": self.config.dr_kms_key_arn}
                                   if copy.encrypted else {})
            # Our tags, not the snapshot's (CopyTags): the copy is proven a DR copy by them.
            tags = dict_to_tags(copy.tags)
            if copy.kind == CLUSTER:
                dr_rds.copy_db_cluster_snapshot(
                    SourceDBClusterSnapshotIdentifier=copy.source_arn,
                    TargetDBClusterSnapshotIdentifier=copy.copy,
                    Tags=tags, SourceRegion=self.home_region, **key)  # type: ignore[arg-type]
            else:
                dr_rds.copy_db_snapshot(
                    SourceDBSnapshotIdentifier=copy.source_arn,
                    TargetDBSnapshotIdentifier=copy.copy,
                    Tags=tags, SourceRegion=self.home_region, **key)  # type: ignore[arg-type]

    def deleter(self, rds: RDSClient) -> Callable[[Sequence[Action]], None]:
        def delete(batch: Sequence[Action]) -> None:
            for action in batch:
                if action.params_as(FromSnapshot).kind == CLUSTER:
                    rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=action.resource)
                else:
                    rds.delete_db_snapshot(DBSnapshotIdentifier=action.resource)
        return delete


def _execute(executor: Executor, plan: Plan, kind: str,
             apply: Callable[[Sequence[Action]], None]) -> list[Outcome]:
    start = len(executor.outcomes)
    plan.record(executor)
    executor.run(plan.actions, apply, idempotent_errors=IDEMPOTENT[kind])
    return executor.outcomes[start:]


def _delete_rechecked(executor: Executor, plan: RetentionPlan, rds: RDSClient,
                      delete: Callable[[Sequence[Action]], None], *, config: BackupConfig,
                      now: datetime) -> None:
    """Each deletion only after reading the snapshot again (and, once per database, the newer
    ones kept for it): still ours for that database, still expired, still not among the
    KEEP_LAST newest, else skipped with why. The listing may be minutes old by now."""
    plan.record(executor)
    reader = RdsReader(rds)
    read: dict[tuple[str, str], Snapshot | None] = {}

    def fresh(kind: str, identifier: str) -> Snapshot | None:
        if (kind, identifier) not in read:
            read[(kind, identifier)] = reader.snapshot(kind, identifier)
        return read[(kind, identifier)]

    for planned in plan.actions:
        action = planned
        late = executor.out_of_time is not None and executor.out_of_time()
        if not executor.dry_run and not late:
            expiry = plan.expiries[(planned.params_as(FromSnapshot).kind, planned.resource)]
            kind = expiry.snapshot.kind
            try:
                again = fresh(kind, planned.resource)
                kept = {s.identifier: fresh(kind, s.identifier) for s in expiry.kept}
            except (ClientError, BotoCoreError) as exc:
                executor.fail(planned, f"not read again before deleting ({error_code(exc)}: "
                                       f"{exc}): kept")
                continue
            why = recheck_expiry(expiry, again, kept, now, config)
            if why is not None or again is None:
                executor.skip(planned, why or "gone since it was listed")
                continue
            action = replace(planned, tags=again.tags)  # the exemption tag as it is now
        executor.run([action], delete, idempotent_errors=IDEMPOTENT[DELETE])


def _mark_failed(rds: RDSClient, executor: Executor, outcomes: Sequence[Outcome],
                 key: str, now: datetime) -> None:
    """Tag each snapshot whose export or copy failed, so the failure is reported once, not at
    every reconcile (removing the tag asks for another try)."""
    if executor.dry_run:
        return
    for outcome in outcomes:
        if outcome.status != Status.FAILED:
            continue
        try:
            rds.add_tags_to_resource(ResourceName=outcome.action.params_as(FromSnapshot).source_arn,
                                     Tags=[{"Key": key, "Value": now.isoformat()}])
        except (ClientError, BotoCoreError):
            logger.exception("failure not recorded on the snapshot",
                             extra={"snapshot": outcome.action.resource})


def run_backup(rds: RDSClient, dr_rds: RDSClient | None, executor: Executor,
               config: BackupConfig, *, mode: Mode, now: datetime, region: str) -> TargetRun:
    reader = RdsReader(rds)
    actuator = Actuator(rds, config, region)
    here = reader.snapshots()
    # Ours, proven by their tags: this region's home snapshots, and their copies in the DR
    # region. A database's identifier may exist in both regions: they are two databases.
    ours = here.backups_of(region, BackupType.HOME)
    notes: list[str] = []
    conflicts: list[str] = []
    matched: int | None = None
    tasks = reader.export_tasks() if config.export is not None else []
    dr = RdsReader(dr_rds).snapshots() if dr_rds is not None else None
    dr_copies = dr.backups_of(region, BackupType.DR_COPY) if dr is not None else []
    # Never delete a snapshot that is being exported, or whose DR copy is still being made.
    copying = {(s.kind, s.owner.source_arn, s.created) for s in dr_copies
               if s.owner is not None and s.status != "available"}
    busy = ({task.source_arn for task in tasks if task.status in RUNNING_EXPORTS}
            | {s.arn for s in ours if s.owner is not None
               and (s.kind, s.owner.source_arn, s.created) in copying})
    if mode == Mode.BACKUP:
        plan, matched = plan_snapshots(reader.sources(), here, now, config, reader.quotas())
        notes.extend(plan.notes)
        conflicts.extend(plan.conflicts)
        if matched == 0:
            notes.append(_nothing_matched(config))
        _execute(executor, plan, CREATE, actuator.create)
        _delete_rechecked(executor, plan_retention(ours, now, config, busy, region), rds,
                          actuator.deleter(rds), config=config, now=now)
        if dr_rds is not None and config.dr_region is not None:
            dr_busy = {s.arn for s in dr_copies if s.status != "available"}
            _delete_rechecked(executor, plan_retention(dr_copies, now, config, dr_busy,
                                                       config.dr_region),
                              dr_rds, actuator.deleter(dr_rds), config=config, now=now)
    # Deleted (or, in dry-run, to be deleted) in this region: not exported or copied.
    gone = {o.action.resource for o in executor.outcomes
            if o.action.action == DELETE and o.action.details.get("region") == region
            and o.status in {Status.DONE, Status.PLANNED}}
    present = [s for s in ours if s.identifier not in gone]
    if config.export is not None:
        exports = plan_exports(present, tasks, config)
        outcomes = _execute(executor, exports, EXPORT, partial(actuator.export, config.export))
        _mark_failed(rds, executor, outcomes, EXPORT_FAILED_KEY, now)
    if dr_rds is not None and dr is not None:
        copies = plan_copies(present, dr, config, region)
        conflicts.extend(copies.conflicts)
        outcomes = _execute(executor, copies, COPY, partial(actuator.copy, dr_rds))
        _mark_failed(rds, executor, outcomes, COPY_FAILED_KEY, now)
    run = summary(executor, mode, notes, matched, conflicts)
    run.quiet = run.quiet and not config.report_success
    return run


def _nothing_matched(config: BackupConfig) -> str:
    wanted = []
    if config.selector_tag is not None:
        wanted.append(f"tag {config.selector_tag[0]}={config.selector_tag[1]}")
    if config.identifier_pattern is not None:
        wanted.append(f"identifier pattern {config.identifier_pattern.pattern!r}")
    return f"no database matches {' and '.join(wanted)}: nothing was backed up"


def summary(executor: Executor, mode: Mode, notes: list[str], matched: int | None,
            conflicts: Sequence[str] = ()) -> TargetRun:
    counts: dict[str, dict[str, int]] = {}
    for outcome in executor.outcomes:
        counts.setdefault(outcome.action.action, {}).setdefault(str(outcome.status), 0)
        counts[outcome.action.action][str(outcome.status)] += 1
    labels = {CREATE: ("take", "took", "snapshot(s)"), EXPORT: ("start", "started", "export(s)"),
              COPY: ("start", "started", "DR copy(ies)"),
              DELETE: ("delete", "deleted", "old snapshot(s)")}
    status = str(Status.PLANNED if executor.dry_run else Status.DONE)
    parts = [f"{verbs[0] if executor.dry_run else verbs[1]} {counts[k][status]} {noun}"
             for k, (*verbs, noun) in labels.items() if counts.get(k, {}).get(status)]
    failed = sum(c.get(str(Status.FAILED), 0) for c in counts.values())
    done = ", ".join(parts) or "nothing to do"
    title = (f"RDS {mode.value} (dry-run): would {done}" if executor.dry_run and parts
             else f"RDS {mode.value}: {done}")
    if failed:
        title += f"; {failed} failed"
    if conflicts:
        title += f"; {len(conflicts)} name conflict(s)"
    extra: dict[str, Any] = {"mode": mode.value}
    if notes:
        extra["notes"] = notes
    if conflicts:
        # A snapshot we did not take holds one of our names: someone should look at it.
        extra["conflicts"] = list(conflicts)
    if matched is not None:
        extra["databases_selected"] = matched
    severity = "critical" if failed or conflicts else ("warning" if notes else "info")
    return TargetRun(title=title, severity=severity, extra=extra,  # type: ignore[arg-type]
                     quiet=not executor.dry_run and not notes and not conflicts)
