"""From whatever arrived (alarm, AWS event, log lines, opskit report, anything) to a Notice.

The renderers of each kind of message live in `render_*.py`; this module picks one from the
payload's shape and makes sure rendering never raises."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from opskit.notify import SCHEMA as REPORT_SCHEMA
from opskit.observability import logger
from slack_notifier import console_links as links
from slack_notifier.console_links import valid_account
from slack_notifier.notice import SEVERITIES, Notice
from slack_notifier.render_alarms import render_alarm, render_alarm_action
from slack_notifier.render_backup import is_backup_sns, render_backup_sns
from slack_notifier.render_common import (
    Incoming,
    JsonObject,
    joined,
    link,
    number,
    obj,
    objects,
    region_or,
    text,
)
from slack_notifier.render_cost import (
    is_budgets_text,
    is_cost_anomaly,
    render_budgets,
    render_cost_anomaly,
)
from slack_notifier.render_events import render_codestar, render_event

__all__ = ["Incoming", "JsonObject", "render", "render_alarm", "render_event", "render_logs",
           "render_report", "render_unknown"]


# ---------------------------------------------------------------- CloudWatch Logs
def render_logs(data: JsonObject, incoming: Incoming) -> Notice:
    group = text(data.get("logGroup"))
    stream = text(data.get("logStream")) or None
    events = objects(data.get("logEvents"))
    filters = data.get("subscriptionFilters")
    region = region_or(incoming.region)
    return Notice(
        source="cloudwatch.logs", severity="warning",
        title=f"{len(events)} log event{'s' if len(events) != 1 else ''}"
              + (f" in {group}" if group else ""),
        fields=(("Log group", group or "-"), ("Stream", stream or "-"),
                # filter names that are not strings raise: the message is shown as JSON
                ("Filter", ", ".join(filters or []) or "-")),
        lines=tuple(text(e.get("message")).rstrip() for e in events),
        link=link("Open log stream", links.log_stream(region, group, stream)),
        account=valid_account(data.get("owner")), region=region)


# ---------------------------------------------------------------- opskit reports
_STATUS_MARK = {"done": ":white_check_mark:", "planned": ":memo:", "skipped": ":fast_forward:",
                "failed": ":x:"}


def _notes(notes: Any) -> str:
    """A report's `notes`: a list of sentences (a lone string is taken as one)."""
    items = notes if isinstance(notes, list) else [notes]
    return "\n".join(text(note) for note in items if note)


def render_report(report: JsonObject, incoming: Incoming) -> Notice:
    severity = report.get("severity")
    if severity not in SEVERITIES:
        logger.warning("report with unknown severity", extra={"severity": severity})
        severity = "warning"
    counts = obj(report.get("counts"))
    lines = []
    for action in objects(report.get("actions")):
        status = text(action.get("status"))
        resource = text(action.get("resource"))
        head = joined(_STATUS_MARK.get(status, "-"), status, action.get("action"),
                      action.get("resource_type"), f"`{resource}`" if resource else "")
        tail = joined(action.get("reason"),
                      f"({text(obj(action.get('details')).get('note'))})"
                      if text(obj(action.get("details")).get("note")) else "")
        lines.append(f"{head}: {tail}" if tail else head)
    if report.get("truncated"):
        lines.append("... more actions were left out of the report (see the function's logs)")
    mode = "dry-run (nothing changed)" if report.get("dry_run") else "live"
    return Notice(
        source="opskit.report", severity=severity,  # type: ignore[arg-type]
        title=text(report.get("title")) or joined(report.get("automation"), "report"),
        text=text(report.get("error")) or _notes(report.get("notes")),
        fields=(("Automation", text(report.get("automation")) or "-"), ("Mode", mode),
                ("Counts", ", ".join(f"{text(n)} {k}" for k, n in counts.items()
                                     if number(n)) or "none")),
        lines=tuple(lines), account=valid_account(report.get("account")),
        region=region_or(report.get("region")))


# ---------------------------------------------------------------- anything else
def _compact_length(payload: Any, limit: int = 10_000_000) -> int:
    """Characters of the payload as compact JSON, counted without recursion (for payloads
    nested too deeply for json.dumps); stops counting at `limit`."""
    total, stack = 0, [payload]
    while stack and total < limit:
        item = stack.pop()
        if isinstance(item, dict):
            total += 2 + max(len(item) - 1, 0)
            for key, value in item.items():
                total += len(json.dumps(str(key))) + 1
                stack.append(value)
        elif isinstance(item, list | tuple):
            total += 2 + max(len(item) - 1, 0)
            stack.extend(item)
        else:
            try:
                total += len(json.dumps(item, default=str))
            except (TypeError, ValueError):
                total += len(repr(item))
    return total


def render_unknown(payload: Any, incoming: Incoming) -> Notice:
    subject = text(incoming.subject) or None
    region = region_or(incoming.region)
    if isinstance(payload, str):
        return Notice(source="text", severity="info", title=subject or "Message",
                      text=payload, region=region)
    try:
        shown = json.dumps(payload, indent=2, default=str)
    except RecursionError:
        shown = f"(JSON nested too deeply to show, {_compact_length(payload)} characters)"
    return Notice(source="json", severity="info", title=subject or "JSON message",
                  text=shown, region=region)


def _renderer(incoming: Incoming) -> Callable[[Any, Incoming], Notice]:
    payload = incoming.payload
    if isinstance(payload, dict):
        if payload.get("schema") == REPORT_SCHEMA:
            return render_report
        if "AlarmName" in payload and "NewStateValue" in payload:
            return render_alarm
        if "detail-type" in payload and "source" in payload:
            return render_event
        if "detailType" in payload and "source" in payload and "detail" in payload:
            return render_codestar
        if payload.get("source") == "aws.cloudwatch" and isinstance(payload.get("alarmData"),
                                                                     dict):
            return render_alarm_action
        if is_cost_anomaly(payload):
            return render_cost_anomaly
        if "logEvents" in payload and "logGroup" in payload:
            return render_logs
    elif isinstance(payload, str):
        if is_backup_sns(incoming):
            return render_backup_sns
        if is_budgets_text(incoming):
            return render_budgets
    return render_unknown


def _last_resort(incoming: Incoming, exc: BaseException) -> Notice:
    kind = type(incoming.payload).__name__
    return Notice(source="json", severity="info", title="Message that could not be shown",
                  text=f"(a {kind} payload that could not be rendered: {type(exc).__name__})",
                  region=region_or(incoming.region))


def render(incoming: Incoming) -> Notice:
    """Pick the renderer from the payload's shape; anything unrecognised is still shown, and a
    payload too odd for its renderer is shown as JSON rather than dropped. Never raises."""
    try:
        renderer = _renderer(incoming)
        return renderer(incoming.payload, incoming)
    except Exception as exc:  # RecursionError included: deeply nested JSON
        logger.warning("message not in its usual shape: shown as it came",
                       extra={"error": repr(exc)[:500]})
        try:
            return render_unknown(incoming.payload, incoming)
        except Exception as again:
            logger.warning("message could not be shown", extra={"error": repr(again)[:500]})
            return _last_resort(incoming, again)
