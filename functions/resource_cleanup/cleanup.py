"""One target's cleanup: find, plan the lifecycle, re-read before each delete, apply through the
executor, sum the savings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from opskit.actions import Action, Executor, Plan, Status, chunks, error_code, resources
from opskit.runner import TargetRun
from resource_cleanup.finders import Candidate, Finder
from resource_cleanup.lifecycle import (
    DELETE,
    MARK,
    REPORT,
    RETAIN,
    UNMARK,
    Mark,
    Reread,
    Retention,
    confirm,
    plan,
    savings,
)
from resource_cleanup.reread import REREAD_BATCH, Rereader
from resource_cleanup.settings import (
    ADDRESS,
    BALANCER,
    CLEANUP_TAG,
    FINAL_COPY_TAG,
    IMAGE,
    INTERFACE,
    SNAPSHOT,
    STOPPED,
    VOLUME,
    CleanupConfig,
)

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_logs import CloudWatchLogsClient

EC2_KINDS = frozenset({VOLUME, ADDRESS, SNAPSHOT, IMAGE, INTERFACE, STOPPED})
EC2_TAG_BATCH = 200  # CreateTags takes up to 1,000 ids; a failing batch is bisected
ELB_TAG_BATCH = 20  # AddTags/RemoveTags take up to 20 ARNs
GONE = ("InvalidVolume.NotFound", "InvalidAllocationID.NotFound", "InvalidSnapshot.NotFound",
        "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidNetworkInterfaceID.NotFound",
        "LoadBalancerNotFound", "ResourceNotFoundException")


@dataclass
class Cleaner:
    ec2: EC2Client
    elbv2: ElasticLoadBalancingv2Client
    logs: CloudWatchLogsClient
    config: CleanupConfig

    def tag(self, kind: str, batch: Sequence[Action]) -> None:
        value = batch[0].params_as(Mark).cleanup_after
        if kind in EC2_KINDS:
            self.ec2.create_tags(Resources=resources(batch),
                                 Tags=[{"Key": CLEANUP_TAG, "Value": value}])
        elif kind == BALANCER:
            self.elbv2.add_tags(ResourceArns=resources(batch),
                                Tags=[{"Key": CLEANUP_TAG, "Value": value}])
        else:
            for action in batch:
                self.logs.tag_resource(resourceArn=action.resource, tags={CLEANUP_TAG: value})

    def untag(self, kind: str, batch: Sequence[Action]) -> None:
        if kind in EC2_KINDS:
            self.ec2.delete_tags(Resources=resources(batch), Tags=[{"Key": CLEANUP_TAG}])
        elif kind == BALANCER:
            self.elbv2.remove_tags(ResourceArns=resources(batch), TagKeys=[CLEANUP_TAG])
        else:
            for action in batch:
                self.logs.untag_resource(resourceArn=action.resource, tagKeys=[CLEANUP_TAG])

    def delete(self, kind: str, batch: Sequence[Action]) -> None:
        for action in batch:
            rid = action.resource
            if kind == VOLUME:
                if self.config.snapshot_before_delete:
                    self.ec2.create_snapshot(
                        VolumeId=rid, Description=f"opskit: last copy of {rid} before cleanup",
                        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [
                            {"Key": FINAL_COPY_TAG, "Value": rid}]}])
                self.ec2.delete_volume(VolumeId=rid)
            elif kind == ADDRESS:
                self.ec2.release_address(AllocationId=rid)
            elif kind == SNAPSHOT:
                self.ec2.delete_snapshot(SnapshotId=rid)
            elif kind == IMAGE:
                self.ec2.deregister_image(ImageId=rid)
            elif kind == INTERFACE:
                self.ec2.delete_network_interface(NetworkInterfaceId=rid)
            elif kind == BALANCER:
                self.elbv2.delete_load_balancer(LoadBalancerArn=rid)

    def retain(self, _: str, batch: Sequence[Action]) -> None:
        for action in batch:
            retention = action.params_as(Retention)
            self.logs.put_retention_policy(logGroupName=retention.log_group,
                                           retentionInDays=retention.days)
            self.logs.untag_resource(resourceArn=action.resource, tagKeys=[CLEANUP_TAG])


def _noop(_: str, __: Sequence[Action]) -> None:
    """Report-only: recording the finding is the whole job."""


def run_cleanup(finder: Finder, cleaner: Cleaner, rereader: Rereader, executor: Executor, *,
                config: CleanupConfig, now: datetime) -> TargetRun:
    found = finder.find()
    planned = plan(found, now, config)
    planned.record(executor)
    appliers: dict[str, Callable[[str, Sequence[Action]], None]] = {
        REPORT: _noop, UNMARK: cleaner.untag, MARK: cleaner.tag, RETAIN: cleaner.retain,
        DELETE: cleaner.delete}

    def apply(kind_of_action: str, chosen: Sequence[Action]) -> None:
        for resource_type in sorted({a.resource_type for a in chosen}):
            group = [a for a in chosen if a.resource_type == resource_type]
            size = 1
            if kind_of_action in {MARK, UNMARK}:
                size = EC2_TAG_BATCH if resource_type in EC2_KINDS else (
                    ELB_TAG_BATCH if resource_type == BALANCER else 1)
            executor.run(group, partial(appliers[kind_of_action], resource_type),
                         batch_size=size, idempotent_errors=GONE)

    for kind_of_action in (REPORT, UNMARK, MARK):
        apply(kind_of_action, [a for a in planned.actions if a.action == kind_of_action])
    candidates = {c.resource: c for c in found.candidates}
    for kind_of_action in (RETAIN, DELETE):
        due = [a for a in planned.actions if a.action == kind_of_action]
        for resource_type in sorted({a.resource_type for a in due}):
            group = [a for a in due if a.resource_type == resource_type]
            for batch in chunks(group, REREAD_BATCH):
                confirmed = reread_then_confirm(batch, candidates, rereader, config, now)
                confirmed.record(executor)
                for follow_up in (UNMARK, MARK, kind_of_action):
                    apply(follow_up, [a for a in confirmed.actions if a.action == follow_up])
    return summary(executor, found_count=len(found.candidates))


def reread_then_confirm(batch: Sequence[Action], candidates: dict[str, Candidate],
                        rereader: Rereader, config: CleanupConfig, now: datetime) -> Plan:
    """Just before the deletes of a batch, what made each resource unused and its mark are
    read again: a delete goes ahead only if nothing changed (lifecycle.confirm)."""
    chosen = [candidates[a.resource] for a in batch]
    try:
        fresh = rereader.reread(batch[0].resource_type, chosen)
    except (ClientError, BotoCoreError) as exc:
        return Plan(failed=[(a, f"not deleted: the re-read failed ({error_code(exc)})")
                            for a in batch])
    result = Plan()
    for action, candidate in zip(batch, chosen, strict=True):
        result.extend(confirm(action, candidate, fresh.get(action.resource, Reread()), now,
                              config))
    return result


LABELS = {MARK: "marked", DELETE: "deleted", RETAIN: "log retention(s) set",
          UNMARK: "unmarked", REPORT: "reported"}


def summary(executor: Executor, *, found_count: int) -> TargetRun:
    shown = Status.PLANNED if executor.dry_run else Status.DONE
    acted = [o.action for o in executor.outcomes if o.status == shown]
    counts = Counter(a.action for a in acted)
    failed = sum(o.status == Status.FAILED for o in executor.outcomes)
    by_type = savings(acted)
    total = round(sum(by_type.values()), 2)
    parts = [f"{counts[k]} {label}" for k, label in LABELS.items() if counts[k]]
    heading = "Unused resources, planned in dry-run" if executor.dry_run else "Unused resources"
    title = f"{heading}: " + (", ".join(parts) if parts else "nothing to do")
    if total:
        title += f"; about ${total:,.2f}/month"
    if failed:
        title += f"; {failed} failed"
    grouped: dict[str, Counter[str]] = {}
    for action in acted:
        grouped.setdefault(action.resource_type, Counter())[action.action] += 1
    extra: dict[str, Any] = {
        "candidates": found_count, "by_type": {t: dict(c) for t, c in sorted(grouped.items())},
        "monthly_saving_usd": {"total": total, "by_type": by_type,
                               "note": "estimate from list prices; see docs/resource_cleanup.md"}}
    severity = "warning" if failed else "info"
    return TargetRun(title=title, severity=severity, extra=extra)  # type: ignore[arg-type]
