"""Each log event parsed into a record: JSON lines into fields, Lambda's START/END/REPORT lines
into timings, plain text with its level and timestamp, anything else kept as it came.

Lambda's lines: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
(INIT_START with the runtime version on a cold start; REPORT with Duration, Billed Duration,
Memory Size, Max Memory Used, and Init Duration on a cold start) and, in the JSON log format,
the platform.start and platform.report records
(https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from log_shipper.masks import MaskPath, mask_fields
from log_shipper.payload import Delivery, LogEvent

_LEVELS = {"TRACE": "TRACE", "DEBUG": "DEBUG", "INFO": "INFO", "NOTICE": "NOTICE",
           "WARN": "WARNING", "WARNING": "WARNING", "ERROR": "ERROR", "CRITICAL": "CRITICAL",
           "FATAL": "CRITICAL"}
_LEVEL = re.compile(r"\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL)\b")
_TIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?"
_REQUEST_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# The Python runtime's text format: [LEVEL]\ttime\trequest id\tmessage.
_PYTHON = re.compile(rf"\[([A-Z]+)\]\t({_TIME})\t({_REQUEST_ID})?\t?(.*)", re.DOTALL)
# The Node.js runtime's: time\trequest id\tLEVEL\tmessage.
_NODE = re.compile(rf"({_TIME})\t({_REQUEST_ID})\t([A-Z]+)\t(.*)", re.DOTALL)
_LEADING_TIME = re.compile(rf"\[?({_TIME})\]?")
_INIT = re.compile(r"INIT_START Runtime Version: (\S+)")
_START = re.compile(r"START RequestId: (\S+)(?: Version: (\S+))?")
_END = re.compile(r"END RequestId: (\S+)")
_REPORT = re.compile(r"REPORT RequestId: (\S+)")
_REPORT_VALUE = re.compile(r"(Duration|Billed Duration|Memory Size|Max Memory Used|"
                           r"Init Duration|Restore Duration): ([\d.]+) (?:ms|MB)")
_REPORT_STATUS = re.compile(r"Status: (\w+)")
_REPORT_COLUMNS = {"Duration": "duration_ms", "Billed Duration": "billed_duration_ms",
                   "Memory Size": "memory_size_mb", "Max Memory Used": "max_memory_used_mb",
                   "Init Duration": "init_duration_ms"}
_PLATFORM_METRICS = {"durationMs": "duration_ms", "billedDurationMs": "billed_duration_ms",
                     "memorySizeMB": "memory_size_mb", "maxMemoryUsedMB": "max_memory_used_mb",
                     "initDurationMs": "init_duration_ms"}
# Where structured loggers (Powertools, pino, structlog, logrus...) put these.
_LEVEL_KEYS = ("level", "levelname", "severity", "log.level", "lvl")
_MESSAGE_KEYS = ("message", "msg")
_REQUEST_KEYS = ("function_request_id", "requestId", "request_id", "AWSRequestId", "awsRequestId")
# What replaces a line that looks like JSON but cannot be parsed while masks are configured:
# a value a mask names could be in it, so it is not kept as it came.
UNPARSED_WITHHELD = "[unparsed JSON line withheld: masks are configured]"
KINDS = ("json", "lambda_init", "lambda_start", "lambda_end", "lambda_report", "text", "raw")


@dataclass(frozen=True, slots=True)
class Source:
    """Where the events come from: added to every record."""

    account: str
    region: str
    log_group: str
    log_stream: str


def _level(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):  # pino's numbers
        return {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARNING", 50: "ERROR",
                60: "CRITICAL"}.get(value)
    if isinstance(value, str):
        return _LEVELS.get(value.strip().upper())
    return None


def _first(fields: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if fields.get(key) not in (None, ""):
            return fields[key]
    return None


def _report_values(text: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, number in _REPORT_VALUE.findall(text):
        column = _REPORT_COLUMNS.get(name)
        if column is not None:
            values[column] = float(number)
    return values


def _parse_platform(fields: dict[str, Any], record: dict[str, Any]) -> bool:
    """Lambda's JSON log format platform records; False for any other JSON."""
    kind = fields.get("type")
    body = fields.get("record")
    if kind not in ("platform.start", "platform.report") or not isinstance(body, dict):
        return False
    record["request_id"] = body.get("requestId")
    if kind == "platform.start":
        record["kind"] = "lambda_start"
        return True
    record["kind"] = "lambda_report"
    found = body.get("metrics")
    metrics: dict[str, Any] = found if isinstance(found, dict) else {}
    for key, column in _PLATFORM_METRICS.items():
        value = metrics.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            record[column] = float(value)
    return True


def _parse_json(message: str, record: dict[str, Any], masks: tuple[MaskPath, ...]) -> bool:
    try:
        fields = json.loads(message)
        if isinstance(fields, dict) and masks:
            fields = mask_fields(fields, masks)
    except (ValueError, RecursionError):
        if masks:  # a masked value could be in it: the line is withheld, never kept raw
            record["message"] = UNPARSED_WITHHELD
            return True
        return False
    if not isinstance(fields, dict):
        return False
    record["kind"] = "json"
    record["fields"] = fields
    if _parse_platform(fields, record):
        return True
    record["level"] = _level(_first(fields, _LEVEL_KEYS))
    text = _first(fields, _MESSAGE_KEYS)
    record["message"] = text if isinstance(text, str) else None
    request_id = _first(fields, _REQUEST_KEYS)
    record["request_id"] = request_id if isinstance(request_id, str) else None
    return True


def _parse_lambda_line(message: str, record: dict[str, Any]) -> bool:
    if message.startswith("INIT_START "):
        match = _INIT.match(message)
        if match:
            record.update(kind="lambda_init", fields={"runtime_version": match[1]})
            return True
    elif message.startswith("START RequestId: "):
        match = _START.match(message)
        if match:
            record.update(kind="lambda_start", request_id=match[1],
                          fields={"version": match[2]} if match[2] else None)
            return True
    elif message.startswith("END RequestId: "):
        match = _END.match(message)
        if match:
            record.update(kind="lambda_end", request_id=match[1])
            return True
    elif message.startswith("REPORT RequestId: "):
        match = _REPORT.match(message)
        if match:
            record.update(kind="lambda_report", request_id=match[1], **_report_values(message))
            status = _REPORT_STATUS.search(message)
            if status:
                record["fields"] = {"status": status[1]}
            return True
    return False


def _parse_text(message: str, record: dict[str, Any]) -> None:
    python = _PYTHON.match(message)
    if python and python[1] in _LEVELS:
        record.update(kind="text", level=_LEVELS[python[1]], logged_at=python[2],
                      request_id=python[3], message=python[4])
        return
    node = _NODE.match(message)
    if node and node[3] in _LEVELS:
        record.update(kind="text", level=_LEVELS[node[3]], logged_at=node[1],
                      request_id=node[2], message=node[4])
        return
    leading = _LEADING_TIME.match(message)
    level = _LEVEL.search(message, 0, 200)
    if leading is None and level is None:
        return  # raw: kept as it came
    record.update(kind="text", level=_LEVELS[level[1]] if level else None,
                  logged_at=leading[1] if leading else None)


def iso_time(timestamp_ms: int) -> str:
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp_ms % 1000:03d}Z"


def parse_event(event: LogEvent, source: Source,
                masks: tuple[MaskPath, ...] = ()) -> dict[str, Any]:
    """One record: the event's own fields, where it came from, and what parsing found."""
    message = event.message.rstrip("\r\n")
    record: dict[str, Any] = {
        "timestamp": event.timestamp_ms, "time": iso_time(event.timestamp_ms),
        "event_id": event.id, "log_group_name": source.log_group,
        "log_stream": source.log_stream, "account": source.account, "region": source.region,
        "kind": "raw", "level": None, "message": message, "request_id": None,
        "logged_at": None, "fields": None,
    }
    stripped = message.lstrip()
    if stripped.startswith("{") and _parse_json(stripped, record, masks):
        return record
    if _parse_lambda_line(message, record):
        return record
    _parse_text(message, record)
    return record


def parse_delivery(delivery: Delivery, region: str,
                   masks: tuple[MaskPath, ...] = ()) -> list[dict[str, Any]]:
    source = Source(delivery.owner, region, delivery.log_group, delivery.log_stream)
    return [parse_event(event, source, masks) for event in delivery.events]
