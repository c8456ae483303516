"""The `CloudWatch Alarm State Change` event, read into what healing needs (or refused)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from opskit.events import EventError, require_field, require_object

STATE_CHANGE = "CloudWatch Alarm State Change"


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric the alarm reads (a `metricStat` entry of its configuration)."""

    name: str
    namespace: str = ""
    dimensions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Subject:
    """What one metric's dimensions name: an instance, a service, a function, a group, or
    something this automation does not know (`kind` "other")."""

    kind: str  # instance, service, function, group, other
    dimensions: tuple[tuple[str, str], ...]  # the dimensions that name it, in a fixed order

    def __str__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.dimensions) or "none"

    def get(self, name: str) -> str:
        return dict(self.dimensions)[name]


def subject_of(dimensions: Mapping[str, str]) -> Subject | None:
    """The target a metric's dimensions name; None for a metric without dimensions (an
    account-wide metric names no target)."""
    def named(kind: str, *keys: str) -> Subject:
        return Subject(kind, tuple((k, dimensions[k]) for k in keys))

    if not dimensions:
        return None
    if "InstanceId" in dimensions:  # CWAgent adds AutoScalingGroupName, ImageId...: same one
        return named("instance", "InstanceId")
    if "ClusterName" in dimensions and "ServiceName" in dimensions:
        return named("service", "ClusterName", "ServiceName")
    if "FunctionName" in dimensions:  # with or without Resource (an alias or version)
        return named("function", "FunctionName")
    if set(dimensions) == {"AutoScalingGroupName"}:
        return named("group", "AutoScalingGroupName")
    return Subject("other", tuple(sorted(dimensions.items())))


@dataclass(frozen=True, slots=True)
class AlarmChange:
    name: str
    arn: str
    state: str
    previous: str
    reason: str
    time: datetime
    account: str
    region: str
    # Every metric the alarm reads: one for a metric alarm, each `metricStat` of a metric
    # math alarm; none for a composite alarm.
    metrics: tuple[Metric, ...] = ()
    # Ids of expressions that query metrics by search (SEARCH, Metrics Insights SELECT): what
    # they read is not listed in the event.
    queries: tuple[str, ...] = ()

    @property
    def link(self) -> str:
        return (f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region="
                f"{self.region}#alarmsV2:alarm/{quote(self.name, safe='')}")

    @property
    def subjects(self) -> list[Subject]:
        """Each distinct target the alarm's metrics name, in the order they are listed."""
        found: list[Subject] = []
        for metric in self.metrics:
            subject = subject_of(metric.dimensions)
            if subject is not None and subject not in found:
                found.append(subject)
        return found


def _metrics(entries: object) -> tuple[tuple[Metric, ...], tuple[str, ...]]:
    metrics: list[Metric] = []
    queries: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        stat = entry.get("metricStat")
        metric: Any = stat.get("metric") if isinstance(stat, dict) else None
        if isinstance(metric, dict):
            dimensions = metric.get("dimensions")
            metrics.append(Metric(
                name=str(metric.get("name", "")), namespace=str(metric.get("namespace", "")),
                dimensions={str(k): str(v) for k, v in dimensions.items()}
                if isinstance(dimensions, dict) else {}))
        expression = entry.get("expression")
        if isinstance(expression, str) and ("SEARCH(" in expression.upper()
                                            or expression.lstrip().upper().startswith("SELECT")):
            queries.append(str(entry.get("id", "?")))
    return tuple(metrics), tuple(queries)


def parse_alarm(event: object) -> AlarmChange:
    """Raises EventError naming the field when the event is not an alarm state change."""
    event = require_object(event)
    if event.get("detail-type") != STATE_CHANGE:
        raise EventError("detail-type", event.get("detail-type"), f"{STATE_CHANGE!r}")
    detail = require_field(dict(event), "detail", dict, "the alarm's state change")
    name = require_field(detail, "alarmName", str, "the alarm's name")
    state = require_field(detail, "state", dict, "the new state")
    resources = event.get("resources") or []
    arn = resources[0] if resources and isinstance(resources[0], str) else ""
    if not arn.startswith("arn:"):
        raise EventError("resources", resources, "the alarm's ARN")
    previous = detail.get("previousState") if isinstance(detail.get("previousState"), dict) \
        else {}
    configuration = detail.get("configuration")
    metrics, queries = _metrics(configuration.get("metrics")
                                if isinstance(configuration, dict) else None)
    time_text = str(event.get("time", ""))
    try:
        when = datetime.fromisoformat(time_text.replace("Z", "+00:00"))
    except ValueError:
        raise EventError("time", time_text, "an ISO 8601 time") from None
    return AlarmChange(name=name, arn=arn, state=str(state.get("value", "")),
                       previous=str(previous.get("value", "")),
                       reason=str(state.get("reason", ""))[:500], time=when,
                       account=arn.split(":")[4], region=arn.split(":")[3],
                       metrics=metrics, queries=queries)
