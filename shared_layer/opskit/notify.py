"""The run report (schema opskit.report/1) and its publication to the alert SNS topic."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, get_args

from opskit.actions import Outcome, Status, count_outcomes
from opskit.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

SCHEMA = "opskit.report/1"
# SNS allows 256 KiB for the message and its attributes together; keep a margin for attributes.
MAX_MESSAGE_BYTES = 256 * 1024 - 2048
SUBJECT_MAX_CHARS = 100
# One severity scale for reports and for the messages the notifier renders from anything: a
# report is info, warning or critical; "ok" is what the notifier shows for a recovery (an alarm
# back to OK, a build that succeeded).
Severity = Literal["critical", "warning", "info", "ok"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
# Failures first, so truncation drops the least important entries.
_STATUS_ORDER = {Status.FAILED: 0, Status.DONE: 1, Status.PLANNED: 2, Status.SKIPPED: 3}


@dataclass(frozen=True, slots=True)
class RunContext:
    automation: str
    account: str
    region: str
    run_id: str
    dry_run: bool


def default_title(automation: str, counts: dict[str, int]) -> str:
    parts = [f"{counts[name]} {name}" for name in ("failed", "done", "planned", "skipped")
             if counts.get(name)]
    return f"{automation}: {', '.join(parts) if parts else 'nothing to do'}"


def default_severity(counts: dict[str, int]) -> Severity:
    return "warning" if counts.get("failed") else "info"


@dataclass(frozen=True, slots=True)
class Report:
    """What every automation sends for one target (schema opskit.report/1, docs/opskit.md, The
    report). `counts` are always exact; `actions` may be cut to fit one SNS message
    (`truncated`). `extra` holds what an automation adds (error, notes, dispatch, its own
    figures), which the published JSON carries at the top level."""

    automation: str
    account: str
    region: str
    run_id: str
    dry_run: bool
    severity: Severity
    title: str
    counts: Mapping[str, int]
    actions: tuple[Mapping[str, Any], ...]
    truncated: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The published JSON (what the notifier and any other subscriber receive)."""
        return {"schema": SCHEMA, "automation": self.automation, "account": self.account,
                "region": self.region, "run_id": self.run_id, "dry_run": self.dry_run,
                "severity": self.severity, "title": self.title, "counts": dict(self.counts),
                "actions": [dict(a) for a in self.actions], "truncated": self.truncated,
                **self.extra}

    def is_worth_sending(self) -> bool:
        """A run that changed nothing and found nothing publishes nothing.

        Skips alone (exempt or unsupported resources) are not news: they are logged, not sent.
        An `error` or `notes` (things a person should know, such as a quota nearly used)
        always are."""
        counts = self.counts
        return bool(counts["done"] or counts["planned"] or counts["failed"]
                    or self.extra.get("error") or self.extra.get("notes"))


def build_report(
    run: RunContext,
    outcomes: Sequence[Outcome],
    *,
    title: str | None = None,
    severity: Severity | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Report:
    """The report of one target's run, cut to fit one SNS message."""
    counts = count_outcomes(outcomes)
    ordered = sorted(outcomes, key=lambda outcome: _STATUS_ORDER[outcome.status])
    return fit_report(Report(
        automation=run.automation, account=run.account, region=run.region, run_id=run.run_id,
        dry_run=run.dry_run, severity=severity or default_severity(counts),
        title=title or default_title(run.automation, counts), counts=counts,
        actions=tuple(outcome.to_dict() for outcome in ordered), extra=dict(extra or {})))


def _size(report: Report) -> int:
    return len(json.dumps(report.to_dict(), default=str).encode())


def fit_report(report: Report, max_bytes: int = MAX_MESSAGE_BYTES) -> Report:
    """Cap `actions` so the JSON fits in one SNS message; keep counts, set `truncated`."""
    if _size(report) <= max_bytes:
        return report
    actions = report.actions
    low, high = 0, len(actions)
    # Largest prefix that fits (binary search: a few serialisations, not one per action).
    while low < high:
        middle = (low + high + 1) // 2
        if _size(replace(report, actions=actions[:middle], truncated=True)) <= max_bytes:
            low = middle
        else:
            high = middle - 1
    return replace(report, actions=actions[:low], truncated=True)


def publish_report(sns: SNSClient, topic_arn: str, report: Report) -> str | None:
    """Publish one report; returns the SNS message id, or None when there was nothing to say."""
    if not report.is_worth_sending():
        logger.info("nothing to report", extra={"counts": dict(report.counts)})
        return None
    subject = report.title.encode("ascii", "replace").decode()[:SUBJECT_MAX_CHARS]
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=subject.replace("\n", " "),
        Message=json.dumps(report.to_dict(), default=str),
        MessageAttributes={
            "automation": {"DataType": "String", "StringValue": report.automation},
            "severity": {"DataType": "String", "StringValue": report.severity},
        },
    )
    message_id = response["MessageId"]
    logger.info("report published", extra={"message_id": message_id, "title": report.title})
    return message_id
