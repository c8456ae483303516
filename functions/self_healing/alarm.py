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
class AlarmChange:
    name: str
    arn: str
    state: str
    previous: str
    reason: str
    time: datetime
    account: str
    region: str
    metric: str = ""
    namespace: str = ""
    dimensions: Mapping[str, str] = field(default_factory=dict)

    @property
    def link(self) -> str:
        return (f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region="
                f"{self.region}#alarmsV2:alarm/{quote(self.name, safe='')}")


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
    metrics = (detail.get("configuration") or {}).get("metrics") or []
    metric: dict[str, Any] = {}
    for entry in metrics if isinstance(metrics, list) else []:
        stat = entry.get("metricStat") if isinstance(entry, dict) else None
        if isinstance(stat, dict) and isinstance(stat.get("metric"), dict):
            metric = stat["metric"]
            break  # single-metric alarms: one; math alarms: the first metric names the target
    dimensions = metric.get("dimensions") if isinstance(metric.get("dimensions"), dict) else {}
    time_text = str(event.get("time", ""))
    try:
        when = datetime.fromisoformat(time_text.replace("Z", "+00:00"))
    except ValueError:
        raise EventError("time", time_text, "an ISO 8601 time") from None
    return AlarmChange(name=name, arn=arn, state=str(state.get("value", "")),
                       previous=str(previous.get("value", "")),
                       reason=str(state.get("reason", ""))[:500], time=when,
                       account=arn.split(":")[4], region=arn.split(":")[3],
                       metric=str(metric.get("name", "")),
                       namespace=str(metric.get("namespace", "")),
                       dimensions={str(k): str(v) for k, v in (dimensions or {}).items()})
