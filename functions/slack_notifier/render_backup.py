"""AWS Backup: the EventBridge job events (backup, copy, restore) and the notifications a
backup vault publishes to SNS (plain text, with EventType and State message attributes)."""

from __future__ import annotations

import re

from slack_notifier import console_links as links
from slack_notifier.console_links import valid_account
from slack_notifier.notice import Notice, Severity
from slack_notifier.render_common import Incoming, JsonObject, link, parse_arn, region_or, text

BACKUP_SEVERITY: dict[str, Severity] = {"FAILED": "critical", "ABORTED": "warning",
                                        "EXPIRED": "warning", "PARTIAL": "warning",
                                        "COMPLETED": "ok"}
_ID_KEY = {"backup": "backupJobId", "copy": "copyJobId", "restore": "restoreJobId"}
_SNS_KIND = {"BACKUP_JOB": "backup", "COPY_JOB": "copy", "RESTORE_JOB": "restore"}
_SNS_STATE = {"SUCCESSFUL": "COMPLETED"}  # COPY_JOB_SUCCESSFUL and the like


def _resource_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1] if arn else ""


def backup_job(kind: str, detail: JsonObject, region: str | None, account: str | None,
               shown_region: str | None) -> Notice:
    state = text(detail.get("state") or detail.get("status")).upper()
    job_id = text(detail.get(_ID_KEY[kind]))
    resource_type = text(detail.get("resourceType"))
    created = text(detail.get("createdResourceArn"))
    resource = text(detail.get("resourceArn"))
    vault = text(detail.get("backupVaultName")) or _resource_name(
        text(detail.get("destinationBackupVaultArn") or detail.get("backupVaultArn")))
    fields = [("State", state or "-"), ("Resource type", resource_type or "-")]
    if kind == "restore":
        # A restore job restores from a recovery point and, once done, names what it created.
        recovery_point = text(detail.get("recoveryPointArn"))
        fields.append(("Recovery point", recovery_point or "-"))
        if created:
            fields.append(("Created resource", created))
        what = _resource_name(created) or resource_type or "resource"
    else:
        fields.append(("Resource", resource or "-"))
        what = _resource_name(resource) or resource_type or "resource"
    if vault:
        fields.append(("Vault", vault))
    if text(detail.get("sourceBackupVaultArn")) and kind == "copy":
        fields.append(("From vault", _resource_name(text(detail["sourceBackupVaultArn"]))))
    fields.append(("Job", job_id or "-"))
    errors = detail.get("errors")
    message = text(detail.get("statusMessage"))
    if isinstance(errors, list) and errors:
        message = "\n".join([message, *(text(e) for e in errors if text(e))]).strip()
    return Notice(
        source="aws.backup", severity=BACKUP_SEVERITY.get(state, "info"),
        title=f"{kind.capitalize()} job {state or '?'}: {what}", text=message,
        fields=tuple(fields),
        link=link("Open job", links.backup_job(region, kind, job_id)) if job_id else None,
        account=account, region=shown_region)


def is_backup_sns(incoming: Incoming) -> bool:
    attributes = incoming.attributes
    return isinstance(incoming.payload, str) and attributes.get("EventType", "") in _SNS_KIND \
        and bool(attributes.get("State")) and (
            incoming.subject == "Notification from AWS Backup"
            or incoming.payload.startswith("An AWS Backup job"))


def _after(label: str, message: str) -> str:
    found = re.search(rf"{label}\s*:\s*(\S+?)\.?(?:\s|$)", message)
    return found.group(1) if found else ""


def render_backup_sns(message: str, incoming: Incoming) -> Notice:
    attributes = incoming.attributes
    kind = _SNS_KIND[attributes["EventType"]]
    raw_state = text(attributes.get("State")).upper()
    state = _SNS_STATE.get(raw_state, raw_state)
    resource = _after("Resource ARN", message)
    job_id = text(attributes.get("Id")) or _after(r"(?:BackupJob|CopyJob|RestoreJob) ID", message)
    arn = parse_arn(resource)
    region = region_or(incoming.region)
    fields = [("State", state or "-"), ("Resource", resource or "-"), ("Job", job_id or "-")]
    recovery_point = _after("Recovery point ARN", message)
    if recovery_point:
        fields.append(("Recovery point", recovery_point))
    if text(attributes.get("StartTime")):
        fields.append(("Started", text(attributes["StartTime"])))
    what = _resource_name(resource) or "resource"
    return Notice(
        source="aws.backup", severity=BACKUP_SEVERITY.get(state, "info"),
        title=f"{kind.capitalize()} job {state or '?'}: {what}", text=message,
        fields=tuple(fields),
        link=link("Open job", links.backup_job(region, kind, job_id)) if job_id else None,
        account=valid_account(attributes.get("AccountId")) or (arn.account if arn else None),
        region=region)
