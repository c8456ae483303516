"""Validation of incoming events: a malformed event is refused with the field and value named."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent


class EventError(ValueError):
    """The event is not what the trigger sends; nothing was changed."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}={value!r} is invalid: expected {expected}")


# EventBridge, SQS and Secrets Manager never deliver more than this; a larger event is not theirs.
MAX_EVENT_BYTES = 256 * 1024
# Identifiers (ids, names, ARNs, queue URLs) never hold spaces, quotes, brackets or control
# characters: one that does is refused before it reaches an API.
_IDENTIFIER = re.compile(r"^[\w.:/+=@,~-]{1,2048}$")


def require_object(event: object) -> dict[str, Any]:
    """The event must be a JSON object of a size a trigger can deliver."""
    if not isinstance(event, dict):
        raise EventError("event", type(event).__name__, "a JSON object")
    size = len(json.dumps(event, default=str))
    if size > MAX_EVENT_BYTES:
        raise EventError("event", f"{size} bytes", f"at most {MAX_EVENT_BYTES} bytes")
    return event


def is_identifier(value: object) -> bool:
    return isinstance(value, str) and _IDENTIFIER.fullmatch(value) is not None


def require_envelope(event: dict[str, Any]) -> None:
    """The EventBridge envelope every rule and schedule delivers."""
    for name, expected in (("version", "a string such as '0'"), ("id", "the event's id"),
                           ("detail-type", "a string"), ("source", "a string such as aws.ec2")):
        require_field(event, name, str, expected)
    time = require_field(event, "time", str, "an ISO 8601 time such as 2026-11-23T07:00:00Z")
    try:
        datetime.fromisoformat(time)
    except ValueError:
        raise EventError("time", time, "an ISO 8601 time such as 2026-11-23T07:00:00Z") from None


def require_field(event: dict[str, Any], field: str, kind: type, expected: str) -> Any:
    value = event.get(field)
    if not isinstance(value, kind):
        raise EventError(field, value, expected)
    return value


def require_scheduled_event(event: EventBridgeEvent) -> datetime:
    """An EventBridge (rule or Scheduler) event: detail-type, source, ISO time, object detail.
    Returns the event's time in UTC (a time without an offset is UTC): a run's clock."""
    raw = require_object(event.raw_event)
    require_field(raw, "detail-type", str, "a string such as 'Scheduled Event'")
    require_field(raw, "source", str, "a string such as 'aws.events' or 'aws.scheduler'")
    time = require_field(raw, "time", str, "an ISO 8601 time such as 2026-11-23T07:00:00Z")
    try:
        when = datetime.fromisoformat(time)
    except ValueError:
        raise EventError("time", time, "an ISO 8601 time such as 2026-11-23T07:00:00Z") from None
    if not isinstance(raw.get("detail", {}), dict):
        raise EventError("detail", raw.get("detail"), "a JSON object")
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
