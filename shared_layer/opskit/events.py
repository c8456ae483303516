"""Validation of incoming events: a malformed event is refused with the field and value named."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent


class EventError(ValueError):
    """The event is not what the trigger sends; nothing was changed."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}={value!r} is invalid: expected {expected}")


def require_field(event: dict[str, Any], field: str, kind: type, expected: str) -> Any:
    value = event.get(field)
    if not isinstance(value, kind):
        raise EventError(field, value, expected)
    return value


def require_scheduled_event(event: EventBridgeEvent) -> None:
    """An EventBridge (rule or Scheduler) event: detail-type, source, ISO time, object detail."""
    raw = event.raw_event
    if not isinstance(raw, dict):
        raise EventError("event", raw, "a JSON object from EventBridge")
    require_field(raw, "detail-type", str, "a string such as 'Scheduled Event'")
    require_field(raw, "source", str, "a string such as 'aws.events' or 'aws.scheduler'")
    time = require_field(raw, "time", str, "an ISO 8601 time such as 2026-11-23T07:00:00Z")
    try:
        datetime.fromisoformat(time)
    except ValueError:
        raise EventError("time", time, "an ISO 8601 time such as 2026-11-23T07:00:00Z") from None
    if not isinstance(raw.get("detail", {}), dict):
        raise EventError("detail", raw.get("detail"), "a JSON object")
