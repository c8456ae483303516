"""Validation of incoming events: a malformed event is refused with the field and value named."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any


class EventError(ValueError):
    """The event is not what the trigger sends; nothing was changed."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        super().__init__(f"{field}={value!r} is invalid: expected {expected}")


class Skip(Exception):  # noqa: N818 - a decision, not an error
    """The event is not for this automation to act on (a read-only call, its own call, a call it
    does not handle, a malformed record): nothing is done and the reason is the reply
    (opskit.handler turns it into the skipped reply)."""

    def __init__(self, reason: str, ids: Mapping[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.ids = dict(ids or {})


# EventBridge, SQS and Secrets Manager never deliver more than this; a larger event is not theirs.
MAX_EVENT_BYTES = 256 * 1024
# Identifiers (ids, names, ARNs, queue URLs) never hold spaces, quotes, brackets or control
# characters: one that does is refused before it reaches an API.
_IDENTIFIER = re.compile(r"^[\w.:/+=@,~-]{1,2048}$")


def require_object(event: object, max_bytes: int = MAX_EVENT_BYTES) -> dict[str, Any]:
    """The event must be a JSON object of a size a trigger can deliver (`max_bytes`)."""
    if not isinstance(event, dict):
        raise EventError("event", type(event).__name__, "a JSON object")
    size = len(json.dumps(event, default=str))
    if size > max_bytes:
        raise EventError("event", f"{size} bytes", f"at most {max_bytes} bytes")
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


# The schedules the template creates (EventBridge Scheduler, with the Input it sets) and what a
# classic EventBridge schedule rule sends; a scheduled handler accepts nothing else.
# The detail-type of the events EventBridge delivers for CloudTrail-recorded calls.
API_CALL = "AWS API Call via CloudTrail"
SCHEDULES = frozenset({("aws.scheduler", "Scheduled Run"), ("aws.events", "Scheduled Event")})
# How far ahead of the Lambda's clock an event may be dated (clock skew); no trigger dates an
# event in the future, so one dated further ahead was made by hand.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def require_scheduled_event(event: object, now: datetime | None = None) -> datetime:
    """One of the template's schedule events (SCHEDULES), refused with the field named otherwise,
    before any AWS call. Returns the run's clock: the Lambda's (`now`, default the current UTC
    time), never the event's, so no event can move a retention or a grace period. An event dated
    more than MAX_CLOCK_SKEW ahead is refused; a late one (a retry, a replayed sample) runs at
    the real time."""
    # The event as delivered (a dict), or wrapped in a Powertools data class (its raw_event).
    raw = require_object(getattr(event, "raw_event", event))
    source = require_field(raw, "source", str, "aws.scheduler or aws.events")
    detail_type = require_field(raw, "detail-type", str, "'Scheduled Run' or 'Scheduled Event'")
    if (source, detail_type) not in SCHEDULES:
        expected = " or ".join(f"{t!r} from {s}" for s, t in sorted(SCHEDULES))
        raise EventError("detail-type", f"{detail_type} from {source}",
                         f"a scheduled run: {expected}")
    time = require_field(raw, "time", str, "an ISO 8601 time such as 2026-11-23T07:00:00Z")
    try:
        when = datetime.fromisoformat(time)
    except ValueError:
        raise EventError("time", time, "an ISO 8601 time such as 2026-11-23T07:00:00Z") from None
    if not isinstance(raw.get("detail", {}), dict):
        raise EventError("detail", raw.get("detail"), "a JSON object")
    clock = (now or datetime.now(UTC)).astimezone(UTC)
    when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    if when > clock + MAX_CLOCK_SKEW:
        raise EventError("time", time, f"a time no later than the Lambda's clock "
                         f"({clock.isoformat(timespec='seconds')}) plus "
                         f"{int(MAX_CLOCK_SKEW.total_seconds() // 60)} minutes")
    return clock
