"""One target's audit: IAM access keys (once per account) and KMS key rotation (per region)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from access_key_auditor.inventory import credential_report, rotation_secrets, user
from access_key_auditor.planner import (
    DEACTIVATE,
    DELETE,
    OVERDUE,
    RECORD,
    ROTATE,
    WARN,
    KeyOwner,
    needs_look,
    plan_users,
)
from access_key_auditor.settings import AuditorConfig
from opskit.actions import Action, Executor, Status
from opskit.iam_keys import DEACTIVATED_TAG_PREFIX, REPLACED_TAG_PREFIX, deactivation_tag
from opskit.runner import TargetRun

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

KMS_REPORT = "report-kms-rotation-off"
KMS_ENABLE = "enable-kms-rotation"


def _nothing(_: Sequence[Action]) -> None:
    """Report-only actions: recording them is the whole job."""


def audit_iam(iam: IAMClient, sm: SecretsManagerClient, executor: Executor,
              config: AuditorConfig, *, now: datetime, wait: Callable[[float], None]) -> int:
    """Returns how many users the credential report listed."""
    rows = credential_report(iam, wait)
    users = [user(iam, row) for row in rows if needs_look(row, now, config)]
    plan = plan_users(users, now, config, rotation_secrets(sm) if users else {})
    plan.record(executor)

    def rotate(batch: Sequence[Action]) -> None:
        for action in batch:
            sm.rotate_secret(SecretId=action.resource)

    def deactivate(batch: Sequence[Action]) -> None:
        for action in batch:
            name = action.params_as(KeyOwner).user
            iam.update_access_key(UserName=name, AccessKeyId=action.resource, Status="Inactive")
            iam.tag_user(UserName=name, Tags=[deactivation_tag(action.resource, now)])

    def record(batch: Sequence[Action]) -> None:
        for action in batch:
            iam.tag_user(UserName=action.params_as(KeyOwner).user,
                         Tags=[deactivation_tag(action.resource, now)])

    def delete(batch: Sequence[Action]) -> None:
        for action in batch:
            name = action.params_as(KeyOwner).user
            iam.delete_access_key(UserName=name, AccessKeyId=action.resource)
            # The key is gone: so is its deactivation record (IAM users hold 50 tags).
            iam.untag_user(UserName=name, TagKeys=[f"{DEACTIVATED_TAG_PREFIX}{action.resource}",
                                                   f"{REPLACED_TAG_PREFIX}{action.resource}"])

    appliers: dict[str, Callable[[Sequence[Action]], None]] = {
        WARN: _nothing, OVERDUE: _nothing, ROTATE: rotate, DEACTIVATE: deactivate,
        RECORD: record, DELETE: delete}
    for kind, apply in appliers.items():
        executor.run([a for a in plan.actions if a.action == kind], apply,
                     idempotent_errors=("NoSuchEntity",))
    return len(rows)


def audit_kms(kms: KMSClient, executor: Executor, config: AuditorConfig) -> int:
    """Customer-managed symmetric keys without automatic rotation; returns keys checked."""
    found: list[Action] = []
    checked = 0
    for page in kms.get_paginator("list_keys").paginate():
        for listed in page.get("Keys", []):
            meta = kms.describe_key(KeyId=listed["KeyId"])["KeyMetadata"]
            if (meta.get("KeyManager") != "CUSTOMER" or meta.get("KeyState") != "Enabled"
                    or meta.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT"
                    or meta.get("Origin", "AWS_KMS") != "AWS_KMS"):
                continue  # only these keys can rotate automatically
            checked += 1
            if kms.get_key_rotation_status(KeyId=meta["KeyId"]).get("KeyRotationEnabled"):
                continue
            tags = {t["TagKey"]: t["TagValue"]
                    for t in kms.list_resource_tags(KeyId=meta["KeyId"]).get("Tags", [])}
            kind = KMS_ENABLE if config.enable_kms_rotation else KMS_REPORT
            found.append(Action(meta["Arn"], "kms:key", kind, "automatic rotation is off",
                                {"description": meta.get("Description", "")}, tags))

    def enable(batch: Sequence[Action]) -> None:
        for action in batch:
            kms.enable_key_rotation(KeyId=action.resource)

    executor.run(found, enable if config.enable_kms_rotation else _nothing)
    return checked


LABELS = {WARN: "near the age limit", OVERDUE: "over the limit or long inactive",
          ROTATE: "rotation(s) started", DEACTIVATE: "key(s) deactivated",
          DELETE: "key(s) deleted", RECORD: "inactive key(s) recorded",
          KMS_REPORT: "KMS key(s) without rotation",
          KMS_ENABLE: "KMS key rotation(s) turned on"}


def summary(executor: Executor, extra: dict[str, Any]) -> TargetRun:
    shown = Status.PLANNED if executor.dry_run else Status.DONE
    counts = Counter(o.action.action for o in executor.outcomes if o.status == shown)
    failed = sum(o.status == Status.FAILED for o in executor.outcomes)
    parts = [f"{counts[kind]} {label}" for kind, label in LABELS.items() if counts[kind]]
    heading = "Access keys, planned in dry-run" if executor.dry_run and parts else "Access keys"
    title = f"{heading}: " + (", ".join(parts) if parts else "nothing to report")
    if failed:
        title += f"; {failed} failed"
    changed = counts[ROTATE] + counts[DEACTIVATE] + counts[DELETE] + counts[KMS_ENABLE]
    # A user's only key, overdue or deactivated, is critical: that user may be locked out.
    only_key = any(o.action.details.get("only_key") and o.status in {Status.DONE, Status.PLANNED}
                   for o in executor.outcomes)
    severity = ("critical" if failed or only_key
                else "warning" if changed or counts[OVERDUE] else "info")
    return TargetRun(title=title, severity=severity, extra=extra)  # type: ignore[arg-type]
