"""A CloudWatch Logs subscription delivery, decoded and checked before anything is written.

Format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
(`messageType`, `owner`, `logGroup`, `logStream`, `subscriptionFilters`, `logEvents` of `id`,
`timestamp`, `message`). Names: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/
APIReference/API_CreateLogGroup.html (a log group: 1-512 of a-z, A-Z, 0-9, `_ - / . #`) and
API_CreateLogStream.html (a stream: 1-512 characters, no `:` or `*`).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

from opskit.events import EventError
from opskit.logs_payload import decode_logs_data

DATA_MESSAGE = "DATA_MESSAGE"
CONTROL_MESSAGE = "CONTROL_MESSAGE"
_ACCOUNT = re.compile(r"\d{12}")
_LOG_GROUP = re.compile(r"[\w\-/.#]{1,512}", re.ASCII)
_LOG_STREAM = re.compile(r"[^:*\x00-\x1f]{1,512}")
_EVENT_ID = re.compile(r"\d{1,64}")
# The largest timestamp accepted (milliseconds; 2286-11-20): beyond it no date, partition or
# index name can be made of it.
MAX_TIMESTAMP_MS = 9_999_999_999_999


def is_log_group_name(value: str) -> bool:
    return _LOG_GROUP.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class LogEvent:
    id: str
    timestamp_ms: int
    message: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """One subscription delivery: a log stream's events, in order."""

    message_type: str
    owner: str
    log_group: str
    log_stream: str
    subscription_filters: tuple[str, ...]
    events: tuple[LogEvent, ...]

    @property
    def is_control(self) -> bool:
        return self.message_type == CONTROL_MESSAGE


def _require(data: dict[str, Any], field: str, kind: type, expected: str) -> Any:
    value = data.get(field)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise EventError(field, value, expected)
    return value


def _events(raw: Any) -> tuple[LogEvent, ...]:
    if not isinstance(raw, list):
        raise EventError("logEvents", type(raw).__name__, "a list of log events")
    events = []
    for index, item in enumerate(raw):
        where = f"logEvents[{index}]"
        if not isinstance(item, dict):
            raise EventError(where, type(item).__name__, "an object with id, timestamp, message")
        event_id = item.get("id")
        if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
            raise EventError(f"{where}.id", event_id, "the event's id (digits)")
        timestamp = item.get("timestamp")
        if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not (
                0 <= timestamp <= MAX_TIMESTAMP_MS):
            raise EventError(f"{where}.timestamp", timestamp,
                             f"milliseconds since the epoch, 0 to {MAX_TIMESTAMP_MS}")
        message = item.get("message")
        if not isinstance(message, str):
            raise EventError(f"{where}.message", type(message).__name__, "a string")
        events.append(LogEvent(event_id, timestamp, message))
    return tuple(events)


def read_delivery(event: dict[str, Any]) -> Delivery:
    """The delivery in a Lambda event `{"awslogs": {"data": ...}}`; EventError naming the field
    and value when it is not one."""
    if set(event) != {"awslogs"}:  # what Lambda delivers for a subscription, nothing more
        raise EventError("event", sorted(event), "only awslogs, as a subscription sends")
    awslogs = event.get("awslogs")
    if not isinstance(awslogs, dict) or "data" not in awslogs:
        raise EventError("awslogs", awslogs if not isinstance(awslogs, dict) else "{...}",
                         "an object with data (base64 of gzip), as a subscription sends")
    try:
        data = decode_logs_data(event)
    except (TypeError, ValueError, zlib.error) as error:  # not base64, gzip, JSON; too large
        raise EventError("awslogs.data", f"{type(error).__name__}: {error}",
                         "base64 of gzip of a subscription's JSON") from None
    if not isinstance(data, dict):
        raise EventError("awslogs.data", type(data).__name__, "a JSON object")
    message_type = _require(data, "messageType", str, f"{DATA_MESSAGE} or {CONTROL_MESSAGE}")
    if message_type not in (DATA_MESSAGE, CONTROL_MESSAGE):
        raise EventError("messageType", message_type, f"{DATA_MESSAGE} or {CONTROL_MESSAGE}")
    owner = _require(data, "owner", str, "a 12-digit account id")
    if not _ACCOUNT.fullmatch(owner) and message_type == DATA_MESSAGE:
        raise EventError("owner", owner, "a 12-digit account id")
    filters = data.get("subscriptionFilters", [])
    if not isinstance(filters, list) or not all(isinstance(f, str) for f in filters):
        raise EventError("subscriptionFilters", filters, "a list of filter names")
    if message_type == CONTROL_MESSAGE:
        # CloudWatch Logs checks the destination can be reached: acknowledged, nothing shipped.
        return Delivery(message_type, owner, str(data.get("logGroup", "")),
                        str(data.get("logStream", "")), tuple(filters), ())
    log_group = _require(data, "logGroup", str, "a log group name")
    if not is_log_group_name(log_group):
        raise EventError("logGroup", log_group,
                         "a log group name (1-512 of letters, digits, _ - / . #)")
    log_stream = _require(data, "logStream", str, "a log stream name")
    if not _LOG_STREAM.fullmatch(log_stream):
        raise EventError("logStream", log_stream, "a log stream name (1-512, no : or *)")
    try:
        log_stream.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: a \ud800 escape no UTF-8 text holds
        raise EventError("logStream", log_stream.encode("utf-8", "backslashreplace").decode(),
                         "a log stream name in UTF-8 (no lone surrogate)") from None
    return Delivery(message_type, owner, log_group, log_stream, tuple(filters),
                    _events(data.get("logEvents")))
