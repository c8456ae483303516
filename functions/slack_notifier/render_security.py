"""Security Hub findings (ASFF) delivered by EventBridge: `Security Hub Findings - Imported`
and `Security Hub Findings - Custom Action`, each with a list of findings in `detail`."""

from __future__ import annotations

from slack_notifier import console_links as links
from slack_notifier.console_links import valid_account
from slack_notifier.notice import Notice, Severity
from slack_notifier.render_common import (
    JsonObject,
    joined,
    link,
    number,
    obj,
    objects,
    text,
)

LABEL_SEVERITY: dict[str, Severity] = {"CRITICAL": "critical", "HIGH": "critical",
                                       "MEDIUM": "warning", "LOW": "info",
                                       "INFORMATIONAL": "info"}
_LABEL_RANK = {"INFORMATIONAL": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}
MAX_LINKED_FINDINGS = 10


def finding_label(finding: JsonObject) -> str:
    """Severity.Label, or the label of Severity.Normalized (ASFF ranges) when there is none."""
    severity = obj(finding.get("Severity"))
    label = text(severity.get("Label")).upper()
    if label in LABEL_SEVERITY:
        return label
    normalized = number(severity.get("Normalized"))
    if normalized is None:
        return "INFORMATIONAL"
    return ("CRITICAL" if normalized >= 90 else "HIGH" if normalized >= 70
            else "MEDIUM" if normalized >= 40 else "LOW" if normalized >= 1 else "INFORMATIONAL")


def _resource(finding: JsonObject) -> str:
    resources = objects(finding.get("Resources"))
    if not resources:
        return "-"
    first = joined(resources[0].get("Type"), resources[0].get("Id")) or "-"
    return first + (f" (+{len(resources) - 1} more)" if len(resources) > 1 else "")


def _product(finding: JsonObject) -> str:
    return text(finding.get("ProductName")) or text(
        obj(finding.get("ProductFields")).get("aws/securityhub/ProductName")) or text(
        finding.get("GeneratorId"))


def _status(finding: JsonObject, key: str) -> str:
    return text(obj(finding.get(key)).get("Status"))


def _states(finding: JsonObject) -> tuple[str, str]:
    """(Workflow.Status, RecordState), upper case; "" when absent."""
    return _status(finding, "Workflow").upper(), text(finding.get("RecordState")).upper()


def finding_severity(finding: JsonObject) -> Severity:
    """The label's severity only while the finding is open: RecordState ACTIVE (or absent) and
    Workflow.Status NEW or NOTIFIED (or absent). RESOLVED or ARCHIVED is ok, SUPPRESSED (or
    any other state) info: such a finding never pages."""
    workflow, record = _states(finding)
    if workflow == "RESOLVED" or record == "ARCHIVED":
        return "ok"
    if workflow in ("NEW", "NOTIFIED", "") and record in ("ACTIVE", ""):
        return LABEL_SEVERITY[finding_label(finding)]
    return "info"


def _closed_state(finding: JsonObject) -> str:
    """What closes a finding (`RESOLVED`, `SUPPRESSED`, `ARCHIVED`), or "" for an open one."""
    workflow, record = _states(finding)
    if record not in ("ACTIVE", ""):
        return record
    return "" if workflow in ("NEW", "NOTIFIED", "") else workflow


_SEVERITY_ORDER: dict[Severity, int] = {"ok": 0, "info": 1, "warning": 2, "critical": 3}


def securityhub_findings(detail: JsonObject, region: str | None, account: str | None,
                         shown_region: str | None) -> Notice:
    findings = objects(detail.get("findings"))
    if not findings:
        raise ValueError("no findings in the event")
    labels = [finding_label(f) for f in findings]
    severity = max((finding_severity(f) for f in findings), key=_SEVERITY_ORDER.__getitem__)
    open_labels = [label for label, f in zip(labels, findings, strict=True)
                   if not _closed_state(f)]
    worst = max(open_labels or labels, key=lambda label: _LABEL_RANK[label])
    action = text(detail.get("actionName"))
    ids = [text(f.get("Id")) for f in findings if text(f.get("Id"))][:MAX_LINKED_FINDINGS]
    accounts = sorted({text(f.get("AwsAccountId")) for f in findings
                       if text(f.get("AwsAccountId"))})
    fields: list[tuple[str, str]]
    lines: tuple[str, ...] = ()
    if len(findings) == 1:
        finding = findings[0]
        title = f"Security Hub: {text(finding.get('Title')) or 'finding'}"
        body = text(finding.get("Description"))
        fields = [("Severity", worst), ("Product", _product(finding) or "-"),
                  ("Resource", _resource(finding))]
        for label, key in (("Compliance", "Compliance"), ("Workflow", "Workflow")):
            if _status(finding, key):
                fields.append((label, _status(finding, key)))
        record = text(finding.get("RecordState"))
        if record and record.upper() != "ACTIVE":
            fields.append(("Record state", record))
    else:
        summary = f"worst {worst}" if open_labels else "all closed"
        title = f"Security Hub: {len(findings)} findings ({summary})"
        body = ""
        fields = [("Severity", worst), ("Findings", str(len(findings))),
                  ("Accounts", ", ".join(accounts) or "-")]
        lines = tuple(_line(label, f) for label, f in zip(labels, findings, strict=True))
    if action:
        fields.append(("Custom action", action))
    label = "Open finding" if len(ids) == 1 else "Open findings"
    single_account = valid_account(accounts[0]) if len(accounts) == 1 else None
    return Notice(
        source="aws.securityhub", severity=severity, title=title, text=body,
        fields=tuple(fields), lines=lines,
        link=link(label, links.securityhub_findings(region, ids)),
        account=account or single_account, region=shown_region)


def _line(label: str, finding: JsonObject) -> str:
    """`<label> <Title> — <resource> (<account>/<region>) [<closed state>]`."""
    where = joined(finding.get("AwsAccountId"), finding.get("Region"), sep="/")
    closed = _closed_state(finding)
    return (f"{label} {text(finding.get('Title')) or '(untitled)'} — {_resource(finding)}"
            + (f" ({where})" if where else "") + (f" [{closed}]" if closed else ""))
