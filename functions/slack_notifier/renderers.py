"""From whatever arrived (alarm, AWS event, log lines, opskit report, anything) to a Notice."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opskit.observability import logger
from slack_notifier import console_links as links
from slack_notifier.notice import SEVERITIES, Link, Notice, Severity

JsonObject = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message to render: parsed JSON (or text), with the SNS subject when there was one."""

    payload: Any
    subject: str | None = None
    region: str | None = None  # where it came from, when the payload does not say
    attributes: Mapping[str, str] = field(default_factory=dict)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _region_of_arn(arn: Any) -> str | None:
    parts = _text(arn).split(":")
    return parts[3] if len(parts) > 4 and parts[3] else None


# ---------------------------------------------------------------- CloudWatch alarms
_ALARM_SEVERITY: dict[str, Severity] = {"ALARM": "critical", "INSUFFICIENT_DATA": "warning",
                                        "OK": "ok"}


def _alarm_trigger_fields(trigger: JsonObject) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    comparison = _text(trigger.get("ComparisonOperator"))
    if trigger.get("MetricName"):
        fields.append(("Metric", f"{trigger.get('Namespace', '')} {trigger['MetricName']}".strip()))
        dimensions = ", ".join(f"{d.get('name')}={d.get('value')}"
                               for d in trigger.get("Dimensions") or [] if isinstance(d, dict))
        if dimensions:
            fields.append(("Dimensions", dimensions))
        statistic = trigger.get("Statistic") or trigger.get("ExtendedStatistic") or ""
        fields.append(("Condition", f"{statistic} {comparison} {trigger.get('Threshold')} "
                                    f"for {trigger.get('EvaluationPeriods')} x "
                                    f"{trigger.get('Period')} s".strip()))
    elif trigger.get("Metrics"):
        expressions = [m for m in trigger["Metrics"] if isinstance(m, dict)]
        band = next((m.get("Expression") for m in expressions
                     if m.get("Id") == trigger.get("ThresholdMetricId")), None)
        metric: JsonObject = next((m.get("MetricStat", {}).get("Metric", {})
                                   for m in expressions if m.get("MetricStat")), {})
        if metric:
            fields.append(("Metric", f"{metric.get('Namespace', '')} "
                                     f"{metric.get('MetricName', '')}".strip()))
        fields.append(("Condition", f"{comparison} {band or ''}".strip()))
    return fields


def render_alarm(alarm: JsonObject, incoming: Incoming) -> Notice:
    state = _text(alarm.get("NewStateValue")) or "UNKNOWN"
    if state not in _ALARM_SEVERITY:
        logger.warning("unknown alarm state", extra={"state": state,
                                                     "alarm": alarm.get("AlarmName")})
    severity = _ALARM_SEVERITY.get(state, "warning")
    name = _text(alarm.get("AlarmName")) or "(unnamed alarm)"
    region = _region_of_arn(alarm.get("AlarmArn")) or incoming.region
    fields = [("State", f"{alarm.get('OldStateValue', '?')} → {state}")]
    if alarm.get("AlarmRule"):
        fields.append(("Rule", _text(alarm["AlarmRule"])))
        children = [c.get("Arn", "").split(":alarm:")[-1] for c in
                    alarm.get("TriggeringChildren") or [] if isinstance(c, dict)]
        if children:
            fields.append(("Triggered by", ", ".join(children)))
    trigger = alarm.get("Trigger")
    if isinstance(trigger, dict):
        fields.extend(_alarm_trigger_fields(trigger))
    if alarm.get("StateChangeTime"):
        fields.append(("Since", _text(alarm["StateChangeTime"])))
    description = _text(alarm.get("AlarmDescription"))
    reason = _text(alarm.get("NewStateReason"))
    return Notice(
        source="cloudwatch.alarm", severity=severity, title=f"{state}: {name}",
        text="\n".join(part for part in (description, reason) if part),
        fields=tuple(fields),
        link=Link("Open alarm", links.alarm(region, name)) if region else None,
        account=_text(alarm.get("AWSAccountId")) or None, region=region,
    )


# ---------------------------------------------------------------- EventBridge events
_PIPELINE_SEVERITY: dict[str, Severity] = {"FAILED": "critical", "SUCCEEDED": "ok",
                                           "STOPPED": "warning", "SUPERSEDED": "info"}


def _pipeline(event: JsonObject, detail: JsonObject) -> Notice:
    state = _text(detail.get("state"))
    severity = _PIPELINE_SEVERITY.get(state, "info")
    pipeline, execution = _text(detail.get("pipeline")), _text(detail.get("execution-id"))
    return Notice(
        source="aws.codepipeline", severity=severity, title=f"Pipeline {pipeline} {state}",
        fields=(("Pipeline", pipeline), ("Execution", execution), ("State", state)),
        link=Link("Open execution", links.pipeline_execution(event["region"], pipeline,
                                                             execution)),
        account=event.get("account"), region=event.get("region"))


def _codebuild(event: JsonObject, detail: JsonObject) -> Notice:
    status = _text(detail.get("build-status"))
    severity: Severity = ("critical" if status in ("FAILED", "FAULT", "TIMED_OUT")
                          else "ok" if status == "SUCCEEDED" else "info")
    project = _text(detail.get("project-name"))
    build_id = _text(detail.get("build-id")).split("/")[-1]
    phase = _text(detail.get("current-phase"))
    fields = [("Project", project), ("Status", status)]
    if phase:
        fields.append(("Phase", f"{phase} ({detail.get('current-phase-context', '')})".strip()))
    return Notice(
        source="aws.codebuild", severity=severity, title=f"Build {project} {status}",
        fields=tuple(fields),
        link=Link("Open build", links.codebuild_build(event["region"], event["account"],
                                                      project, build_id)),
        account=event.get("account"), region=event.get("region"))


def _codedeploy(event: JsonObject, detail: JsonObject) -> Notice:
    state = _text(detail.get("state"))
    severity: Severity = ("critical" if state == "FAILURE" else "ok" if state == "SUCCESS"
                          else "info")
    deployment = _text(detail.get("deploymentId"))
    return Notice(
        source="aws.codedeploy", severity=severity,
        title=f"Deployment {detail.get('application', '')}/"
              f"{detail.get('deploymentGroup', '')} {state}",
        fields=(("Application", _text(detail.get("application"))),
                ("Deployment group", _text(detail.get("deploymentGroup"))),
                ("Deployment", deployment), ("State", state)),
        link=Link("Open deployment", links.codedeploy_deployment(event["region"], deployment)),
        account=event.get("account"), region=event.get("region"))


def _ecs_task(event: JsonObject, detail: JsonObject) -> Notice:
    containers = [c for c in detail.get("containers") or [] if isinstance(c, dict)]
    failed = [c for c in containers if c.get("exitCode") not in (0, None)]
    stop_code = _text(detail.get("stopCode"))
    severity: Severity = ("warning" if failed or stop_code in (
        "TaskFailedToStart", "EssentialContainerExited") else "info")
    cluster = _text(detail.get("clusterArn")).split("/")[-1]
    task_id = _text(detail.get("taskArn")).split("/")[-1]
    group = _text(detail.get("group")) or task_id
    exits = ", ".join(f"{c.get('name')}={c.get('exitCode')}" for c in containers)
    fields = [("Cluster", cluster), ("Task", task_id), ("Stop code", stop_code or "-")]
    if exits:
        fields.append(("Exit codes", exits))
    return Notice(
        source="aws.ecs", severity=severity,
        title=f"ECS task {detail.get('lastStatus', '')} in {group}",
        text=_text(detail.get("stoppedReason")), fields=tuple(fields),
        link=Link("Open task", links.ecs_task(event["region"], cluster, task_id)),
        account=event.get("account"), region=event.get("region"))


def _guardduty(event: JsonObject, detail: JsonObject) -> Notice:
    try:
        level = float(detail.get("severity", 0))
    except (TypeError, ValueError):
        level = 0.0
    severity: Severity = "critical" if level >= 7 else "warning" if level >= 4 else "info"
    label = "High" if level >= 7 else "Medium" if level >= 4 else "Low"
    resource = detail.get("resource") or {}
    return Notice(
        source="aws.guardduty", severity=severity,
        title=f"GuardDuty: {detail.get('title', detail.get('type', 'finding'))}",
        text=_text(detail.get("description")),
        fields=(("Type", _text(detail.get("type"))), ("Severity", f"{label} ({level:g})"),
                ("Resource", _text(resource.get("resourceType") if isinstance(resource, dict)
                                   else resource))),
        link=Link("Open finding", links.guardduty_finding(event["region"],
                                                          _text(detail.get("id")))),
        account=event.get("account"), region=event.get("region"))


def _health(event: JsonObject, detail: JsonObject) -> Notice:
    category = _text(detail.get("eventTypeCategory"))
    severity: Severity = "warning" if category == "issue" else "info"
    descriptions = detail.get("eventDescription") or []
    text = next((_text(d.get("latestDescription")) for d in descriptions
                 if isinstance(d, dict)), "")
    return Notice(
        source="aws.health", severity=severity,
        title=f"AWS Health: {detail.get('service', '')} {detail.get('eventTypeCode', '')}",
        text=text,
        fields=(("Category", category), ("Status", _text(detail.get("statusCode"))),
                ("Start", _text(detail.get("startTime")))),
        link=Link("Open AWS Health", links.health_dashboard()),
        account=event.get("account"), region=event.get("region"))


def _ec2_state(event: JsonObject, detail: JsonObject) -> Notice:
    state = _text(detail.get("state"))
    instance = _text(detail.get("instance-id"))
    severity: Severity = "warning" if state in ("terminated", "shutting-down") else "info"
    return Notice(
        source="aws.ec2", severity=severity, title=f"EC2 {instance} is {state}",
        fields=(("Instance", instance), ("State", state)),
        link=Link("Open instance", links.ec2_instance(event["region"], instance)),
        account=event.get("account"), region=event.get("region"))


_EVENT_RENDERERS: dict[tuple[str, str], Callable[[JsonObject, JsonObject], Notice]] = {
    ("aws.codepipeline", "CodePipeline Pipeline Execution State Change"): _pipeline,
    ("aws.codebuild", "CodeBuild Build State Change"): _codebuild,
    ("aws.codedeploy", "CodeDeploy Deployment State-change Notification"): _codedeploy,
    ("aws.ecs", "ECS Task State Change"): _ecs_task,
    ("aws.guardduty", "GuardDuty Finding"): _guardduty,
    ("aws.health", "AWS Health Event"): _health,
    ("aws.ec2", "EC2 Instance State-change Notification"): _ec2_state,
}


def render_event(event: JsonObject, incoming: Incoming) -> Notice:
    detail = event.get("detail")
    detail = detail if isinstance(detail, dict) else {}
    renderer = _EVENT_RENDERERS.get((_text(event.get("source")), _text(event.get("detail-type"))))
    if renderer is not None and event.get("region"):
        try:
            return renderer(event, detail)
        except (KeyError, TypeError, AttributeError) as exc:
            logger.warning("event not in its usual shape", extra={"error": repr(exc),
                                                                  "source": event.get("source")})
    scalars = [(key, _text(value)) for key, value in detail.items()
               if isinstance(value, str | int | float | bool)][:10]
    return Notice(
        source=_text(event.get("source")) or "eventbridge", severity="info",
        title=f"{event.get('detail-type', 'Event')} ({event.get('source', 'unknown source')})",
        fields=tuple(scalars), account=event.get("account"),
        region=event.get("region") or incoming.region)


# ---------------------------------------------------------------- CloudWatch Logs
def render_logs(data: JsonObject, incoming: Incoming) -> Notice:
    group = _text(data.get("logGroup"))
    stream = _text(data.get("logStream")) or None
    events = [e for e in data.get("logEvents") or [] if isinstance(e, dict)]
    region = incoming.region
    return Notice(
        source="cloudwatch.logs", severity="warning",
        title=f"{len(events)} log event{'s' if len(events) != 1 else ''} in {group}",
        fields=(("Log group", group), ("Stream", stream or "-"),
                ("Filter", ", ".join(data.get("subscriptionFilters") or []) or "-")),
        lines=tuple(_text(e.get("message")).rstrip() for e in events),
        link=Link("Open log stream", links.log_stream(region, group, stream)) if region else None,
        account=_text(data.get("owner")) or None, region=region)


# ---------------------------------------------------------------- opskit reports
_STATUS_MARK = {"done": ":white_check_mark:", "planned": ":memo:", "skipped": ":fast_forward:",
                "failed": ":x:"}


def _notes(notes: Any) -> str:
    """A report's `notes`: a list of sentences (a lone string is taken as one)."""
    items = notes if isinstance(notes, list) else [notes]
    return "\n".join(_text(note) for note in items if note)


def render_report(report: JsonObject, incoming: Incoming) -> Notice:
    severity = report.get("severity")
    if severity not in SEVERITIES:
        logger.warning("report with unknown severity", extra={"severity": severity})
        severity = "warning"
    raw_counts = report.get("counts")
    counts: JsonObject = raw_counts if isinstance(raw_counts, dict) else {}
    lines = []
    for action in report.get("actions") or []:
        if not isinstance(action, dict):
            continue
        status = _text(action.get("status"))
        raw_details = action.get("details")
        details: JsonObject = raw_details if isinstance(raw_details, dict) else {}
        note = f" ({details['note']})" if details.get("note") else ""
        lines.append(f"{_STATUS_MARK.get(status, '-')} {status} {action.get('action')} "
                     f"{action.get('resource_type')} `{action.get('resource')}`: "
                     f"{action.get('reason', '')}{note}")
    if report.get("truncated"):
        lines.append("... more actions were left out of the report (see the function's logs)")
    mode = "dry-run (nothing changed)" if report.get("dry_run") else "live"
    return Notice(
        source="opskit.report", severity=severity,  # type: ignore[arg-type]
        title=_text(report.get("title")) or f"{report.get('automation')} report",
        text=_text(report.get("error")) or _notes(report.get("notes")),
        fields=(("Automation", _text(report.get("automation"))), ("Mode", mode),
                ("Counts", ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "none")),
        lines=tuple(lines), account=_text(report.get("account")) or None,
        region=_text(report.get("region")) or None)


# ---------------------------------------------------------------- anything else
def render_unknown(payload: Any, incoming: Incoming) -> Notice:
    if isinstance(payload, str):
        return Notice(source="text", severity="info", title=incoming.subject or "Message",
                      text=payload, region=incoming.region)
    return Notice(source="json", severity="info", title=incoming.subject or "JSON message",
                  text=json.dumps(payload, indent=2, default=str), region=incoming.region)


def _renderer(payload: Any) -> Callable[[Any, Incoming], Notice]:
    if isinstance(payload, dict):
        if payload.get("schema") == "opskit.report/1":
            return render_report
        if "AlarmName" in payload and "NewStateValue" in payload:
            return render_alarm
        if "detail-type" in payload and "source" in payload:
            return render_event
        if "logEvents" in payload and "logGroup" in payload:
            return render_logs
    return render_unknown


def render(incoming: Incoming) -> Notice:
    """Pick the renderer from the payload's shape; anything unrecognised is still shown, and a
    payload too odd for its renderer is shown as JSON rather than dropped."""
    renderer = _renderer(incoming.payload)
    try:
        return renderer(incoming.payload, incoming)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        logger.warning("message not in its usual shape: shown as it came",
                       extra={"renderer": renderer.__name__, "error": repr(exc)})
        return render_unknown(incoming.payload, incoming)
