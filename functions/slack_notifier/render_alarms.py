"""CloudWatch alarms, however they arrive: through SNS (`AlarmName`, `NewStateValue`), as the
EventBridge `CloudWatch Alarm State Change` event, or as the payload an alarm's Lambda action
sends (`alarmData`). All three render the same way, as `cloudwatch.alarm`."""

from __future__ import annotations

from typing import Any

from opskit.observability import logger
from slack_notifier import console_links as links
from slack_notifier.console_links import valid_account
from slack_notifier.notice import Notice, Severity
from slack_notifier.render_common import (
    Incoming,
    JsonObject,
    joined,
    link,
    obj,
    objects,
    parse_arn,
    parse_json_text,
    region_or,
    text,
)

ALARM_SEVERITY: dict[str, Severity] = {"ALARM": "critical", "INSUFFICIENT_DATA": "warning",
                                       "OK": "ok"}


def _severity(state: str, name: Any) -> Severity:
    if state not in ALARM_SEVERITY:
        logger.warning("unknown alarm state", extra={"state": state, "alarm": name})
    return ALARM_SEVERITY.get(state, "warning")


def _alarm_region(arn: Any, fallback: Any) -> tuple[str | None, bool]:
    """(region to show, whether a link may be built). An ARN that is there but does not parse
    (a bogus region or account) gives no link; no ARN at all falls back to `fallback`."""
    parsed = parse_arn(arn)
    if parsed is not None:
        return parsed.region, True
    region = region_or(fallback)
    return region, arn in (None, "") and region is not None


# ---------------------------------------------------------------- through SNS
def _dimension_pairs(dimensions: Any, name_key: str, value_key: str) -> str:
    """`name=value, ...`; a dimension without a name or a value is left out."""
    pairs = ((text(d.get(name_key)), text(d.get(value_key))) for d in objects(dimensions))
    return ", ".join(f"{name}={value}" for name, value in pairs if name and value)


def _alarm_trigger_fields(trigger: JsonObject) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    comparison = text(trigger.get("ComparisonOperator"))
    if text(trigger.get("MetricName")):
        fields.append(("Metric", joined(trigger.get("Namespace"), trigger["MetricName"])))
        dimensions = _dimension_pairs(trigger.get("Dimensions"), "name", "value")
        if dimensions:
            fields.append(("Dimensions", dimensions))
        statistic = text(trigger.get("Statistic")) or text(trigger.get("ExtendedStatistic"))
        periods, period = text(trigger.get("EvaluationPeriods")), text(trigger.get("Period"))
        duration = (f"for {periods} x {period} s" if periods and period
                    else f"for {periods} periods" if periods
                    else f"over {period} s" if period else "")
        condition = joined(statistic, comparison, trigger.get("Threshold"), duration)
        if condition:
            fields.append(("Condition", condition))
    elif trigger.get("Metrics"):
        expressions = objects(trigger["Metrics"])
        band = next((text(m.get("Expression")) for m in expressions
                     if m.get("Id") == trigger.get("ThresholdMetricId")), "")
        # a MetricStat that is not an object raises: the message is shown as JSON
        metric: JsonObject = next((obj(m["MetricStat"].get("Metric"))
                                   for m in expressions if m.get("MetricStat")), {})
        if joined(metric.get("Namespace"), metric.get("MetricName")):
            fields.append(("Metric", joined(metric.get("Namespace"), metric.get("MetricName"))))
        if joined(comparison, band):
            fields.append(("Condition", joined(comparison, band)))
    return fields


def render_alarm(alarm: JsonObject, incoming: Incoming) -> Notice:
    state = text(alarm.get("NewStateValue")) or "UNKNOWN"
    name = text(alarm.get("AlarmName")) or "(unnamed alarm)"
    region, linkable = _alarm_region(alarm.get("AlarmArn"), incoming.region)
    old = text(alarm.get("OldStateValue"))
    fields = [("State", f"{old} → {state}" if old else state)]
    if text(alarm.get("AlarmRule")):
        fields.append(("Rule", text(alarm["AlarmRule"])))
        # a child that is not {"Arn": "<string>"} raises: the message is shown as JSON
        children = [c.get("Arn", "").split(":alarm:")[-1]
                    for c in objects(alarm.get("TriggeringChildren"))]
        if any(children):
            fields.append(("Triggered by", ", ".join(c for c in children if c)))
    trigger = alarm.get("Trigger")
    if isinstance(trigger, dict):
        fields.extend(_alarm_trigger_fields(trigger))
    return _notice(state, name, fields, since=alarm.get("StateChangeTime"),
                   description=alarm.get("AlarmDescription"), reason=alarm.get("NewStateReason"),
                   region=region, linkable=linkable,
                   account=valid_account(text(alarm.get("AWSAccountId"))), shown_region=region)


def _notice(state: str, name: str, fields: list[tuple[str, str]], *, since: Any,
            description: Any, reason: Any, region: str | None, linkable: bool,
            account: str | None, shown_region: str | None) -> Notice:
    """The notice of every alarm payload: SNS, EventBridge and the Lambda action alike."""
    if text(since):
        fields.append(("Since", text(since)))
    return Notice(
        source="cloudwatch.alarm", severity=_severity(state, name), title=f"{state}: {name}",
        text="\n".join(part for part in (text(description), text(reason)) if part),
        fields=tuple(fields),
        link=link("Open alarm", links.alarm(region, name)) if linkable and region else None,
        account=account, region=shown_region)


# ---------------------------------------------------------------- EventBridge and Lambda action
def _dimensions(value: Any) -> str:
    if isinstance(value, dict):  # {"InstanceId": "i-..."} in these payloads
        return ", ".join(f"{text(k)}={text(v)}" for k, v in value.items() if text(k) and text(v))
    return _dimension_pairs(value, "name", "value")


def _metric_fields(configuration: JsonObject, reason_data: Any) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    metrics = objects(configuration.get("metrics"))
    stat = next((obj(m.get("metricStat")) for m in metrics if m.get("metricStat")), {})
    metric = obj(stat.get("metric"))
    if metric:
        if joined(metric.get("namespace"), metric.get("name")):
            fields.append(("Metric", joined(metric.get("namespace"), metric.get("name"))))
        dimensions = _dimensions(metric.get("dimensions"))
        if dimensions:
            fields.append(("Dimensions", dimensions))
    expression = next((text(m.get("expression")) for m in metrics
                       if m.get("expression") and m.get("returnData", True)), "")
    expression = expression or next((text(m.get("expression")) for m in metrics
                                     if m.get("expression")), "")
    data = obj(reason_data)
    parts = []
    if expression:
        parts.append(expression)
    elif stat:
        statistic = text(stat.get("stat") or data.get("statistic"))
        period = text(stat.get("period") or data.get("period"))
        parts.append(joined(statistic, f"over {period} s" if period else ""))
    if text(data.get("threshold")):
        parts.append(f"threshold {text(data['threshold'])}")
    if parts:
        fields.append(("Condition", ", ".join(p for p in parts if p)))
    return fields


def _alarm_state_change(alarm: JsonObject, arn: Any, account: Any, region_hint: Any,
                        incoming: Incoming) -> Notice:
    state_obj, previous = obj(alarm.get("state")), obj(alarm.get("previousState"))
    configuration = obj(alarm.get("configuration"))
    state = text(state_obj.get("value")) or "UNKNOWN"
    name = text(alarm.get("alarmName")) or text(arn).split(":alarm:")[-1] or "(unnamed alarm)"
    parsed = parse_arn(arn)
    region = parsed.region if parsed else region_or(region_hint)
    linkable = parsed is not None or (arn in (None, "") and region is not None)
    old = text(previous.get("value"))
    fields = [("State", f"{old} → {state}" if old else state)]
    reason_data = parse_json_text(state_obj.get("reasonData"))
    if text(configuration.get("alarmRule")):
        fields.append(("Rule", text(configuration["alarmRule"])))
        children = [text(c.get("arn")).split(":alarm:")[-1]
                    for c in objects(obj(reason_data).get("triggeringAlarms"))]
        if any(children):
            fields.append(("Triggered by", ", ".join(c for c in children if c)))
    else:
        fields.extend(_metric_fields(configuration, reason_data))
    return _notice(state, name, fields, since=state_obj.get("timestamp"),
                   description=configuration.get("description"), reason=state_obj.get("reason"),
                   region=region, linkable=linkable,
                   account=valid_account(text(account)) or (parsed.account if parsed else None),
                   shown_region=region or region_or(incoming.region))


def render_alarm_event(event: JsonObject, detail: JsonObject, incoming: Incoming) -> Notice:
    """EventBridge `CloudWatch Alarm State Change` (the alarm's ARN is in `resources`)."""
    resources = event.get("resources")
    arn = next((r for r in resources if isinstance(r, str) and ":alarm:" in r), None) \
        if isinstance(resources, list) else None
    return _alarm_state_change(detail, arn, event.get("account"), event.get("region"), incoming)


def render_alarm_action(payload: JsonObject, incoming: Incoming) -> Notice:
    """What an alarm's Lambda action sends: {source, alarmArn, accountId, region, alarmData}."""
    return _alarm_state_change(obj(payload.get("alarmData")), payload.get("alarmArn"),
                               payload.get("accountId"), payload.get("region"), incoming)
