"""Cost: AWS Budgets notifications (plain text through SNS) and AWS Cost Anomaly Detection
alerts (JSON through SNS, or the EventBridge `Anomaly Detected` event of `aws.ce`)."""

from __future__ import annotations

import re
from typing import Any

from slack_notifier import console_links as links
from slack_notifier.console_links import valid_account
from slack_notifier.notice import Notice, Severity
from slack_notifier.render_common import (
    Incoming,
    JsonObject,
    joined,
    link,
    money,
    number,
    obj,
    objects,
    text,
)

# ---------------------------------------------------------------- AWS Budgets
_BUDGET_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z ]{1,40}?)\s*:\s*(.+?)\s*$", re.MULTILINE)
_BUDGET_ACCOUNT = re.compile(r"AWS Account\s+(\d{12})\b")


def is_budgets_text(incoming: Incoming) -> bool:
    payload = incoming.payload
    return isinstance(payload, str) and (
        text(incoming.subject).startswith("AWS Budgets:")
        or "AWS Budget Notification" in payload[:300])


def _amount(value: str) -> float | None:
    digits = re.sub(r"[^\d.]", "", value.replace(",", ""))
    return number(digits) if digits else None


def render_budgets(message: str, incoming: Incoming) -> Notice:
    values: dict[str, str] = {}
    for key, value in _BUDGET_LINE.findall(message[:20_000]):
        values.setdefault(key.strip().lower(), value)
    name = values.get("budget name", "")
    alert_type = values.get("alert type", "").upper()
    budgeted = values.get("budgeted amount", "")
    threshold = values.get("alert threshold", "")
    actual = values.get("actual amount", "")
    forecast = values.get("forecasted amount", "")
    over = (alert_type == "ACTUAL" and _amount(actual) is not None
            and _amount(budgeted) is not None
            and (_amount(actual) or 0.0) > (_amount(budgeted) or 0.0))
    severity: Severity = "critical" if over else "warning"
    fields = [(label, value) for label, value in (
        ("Budget", name), ("Budget type", values.get("budget type", "")),
        ("Budgeted", budgeted), ("Alert type", alert_type), ("Threshold", threshold),
        ("Actual", actual), ("Forecast", forecast)) if value]
    subject = text(incoming.subject)
    title = subject if subject.startswith("AWS Budgets:") else (
        f"AWS Budgets: {name} alert" if name else "AWS Budgets alert")
    account = _BUDGET_ACCOUNT.search(message[:2_000])
    return Notice(
        source="aws.budgets", severity=severity, title=title, text=message.strip(),
        fields=tuple(fields), link=link("Open budgets", links.budgets()),
        account=valid_account(account.group(1)) if account else None, region=None)


# ---------------------------------------------------------------- Cost Anomaly Detection
# Cost Explorer is global: its ARNs have no region (arn:aws:ce::<account>:anomalymonitor/<id>)
_MONITOR_ARN = re.compile(r"arn:aws:ce::[0-9]{12}:anomalymonitor/([A-Za-z0-9-]{1,64})")
ANOMALY_CRITICAL_USD = 1000.0
ANOMALY_WARNING_USD = 100.0


def is_cost_anomaly(payload: Any) -> bool:
    return isinstance(payload, dict) and "anomalyId" in payload and isinstance(
        payload.get("impact"), dict)


def anomaly_severity(impact: JsonObject) -> Severity:
    total = number(impact.get("totalImpact"))
    total = number(impact.get("maxImpact")) if total is None else total
    if total is None:
        return "warning"
    return ("critical" if total >= ANOMALY_CRITICAL_USD
            else "warning" if total >= ANOMALY_WARNING_USD else "info")


def _cause(cause: JsonObject) -> str:
    account = text(cause.get("linkedAccount"))
    if text(cause.get("linkedAccountName")):
        account = f"{account} ({text(cause['linkedAccountName'])})"
    parts = [text(cause.get(k)) for k in ("service", "region", "usageType")]
    return " · ".join(p for p in [*parts, account] if p) or "-"


def _anomaly_link(data: JsonObject) -> str:
    given = data.get("anomalyDetailsLink")
    if links.is_console_url(given, links.COST_ANOMALY_PATHS):
        return text(given)
    monitor = _MONITOR_ARN.fullmatch(text(data.get("monitorArn")))
    anomaly = text(data.get("anomalyId"))
    if monitor is not None and anomaly:
        return links.cost_anomaly(monitor.group(1), anomaly)
    return links.cost_anomalies()


def cost_anomaly_event(data: JsonObject) -> Notice:
    impact = obj(data.get("impact"))
    causes = objects(data.get("rootCauses"))
    total = number(impact.get("totalImpact"))
    monitor = text(data.get("monitorName")) or "cost monitor"
    where = text(causes[0].get("service")) if causes else ""
    # A negative impact is spend below what was expected: said so, with the absolute amount.
    direction = "below" if total is not None and total < 0 else "above"
    title = (f"Cost anomaly: ${money(abs(total))} {direction} expected"
             if total is not None else "Cost anomaly") + (f" in {where}" if where else "") \
        + f" ({monitor})"
    fields = [("Monitor", monitor)]
    percentage = number(impact.get("totalImpactPercentage"))
    if total is not None:
        fields.append(("Impact", f"${money(abs(total))}" + (
            f" ({abs(percentage):g}% {direction} expected)" if percentage is not None else "")))
    actual = number(impact.get("totalActualSpend"))
    expected = number(impact.get("totalExpectedSpend"))
    spend = joined(f"${money(actual)} actual" if actual is not None else "",
                   f"${money(expected)} expected" if expected is not None else "", sep=", ")
    if spend:
        fields.append(("Spend", spend))
    if number(impact.get("maxImpact")) is not None:
        fields.append(("Max daily impact", f"${money(impact['maxImpact'])}"))
    period = joined(data.get("anomalyStartDate"), data.get("anomalyEndDate"), sep=" → ")
    if period:
        fields.append(("Period", period))
    score = obj(data.get("anomalyScore"))
    current, most = text(score.get("currentScore")), text(score.get("maxScore"))
    if current or most:
        fields.append(("Score", joined(current, f"(max {most})" if most else "")))
    if causes:
        fields.append(("Root cause", _cause(causes[0])))
    return Notice(
        source="aws.ce", severity=anomaly_severity(impact), title=title,
        fields=tuple(fields), lines=tuple(_cause(c) for c in causes[1:]),
        link=link("Open anomaly", _anomaly_link(data)),
        account=valid_account(data.get("accountId")), region=None)


def render_cost_anomaly(payload: JsonObject, incoming: Incoming) -> Notice:
    return cost_anomaly_event(payload)
