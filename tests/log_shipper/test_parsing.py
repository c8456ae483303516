"""Each parser on real-shaped lines: JSON, Lambda START/END/REPORT (text and JSON format),
runtime text formats, generic text, raw; and the source fields every record carries."""

from __future__ import annotations

import json

import pytest

from log_shipper.masks import parse_mask
from log_shipper.parsing import Source, iso_time, parse_event
from log_shipper.payload import LogEvent

SOURCE = Source("123456789012", "eu-west-1", "/aws/lambda/orders-api", "2026/11/23/[$LATEST]ab")
REQUEST = "8a3b2c1d-4e5f-4a6b-9c7d-0e1f2a3b4c5d"


def parse(message: str, masks: tuple[str, ...] = ()) -> dict[str, object]:
    return parse_event(LogEvent("386", 1_795_417_200_415, message), SOURCE,
                       tuple(parse_mask(m) for m in masks))


def test_every_record_carries_its_source_and_time() -> None:
    record = parse("anything at all")
    assert {k: record[k] for k in ("account", "region", "log_group_name", "log_stream",
                                   "event_id", "timestamp", "time")} == {
        "account": "123456789012", "region": "eu-west-1",
        "log_group_name": "/aws/lambda/orders-api", "log_stream": "2026/11/23/[$LATEST]ab",
        "event_id": "386", "timestamp": 1_795_417_200_415, "time": "2026-11-23T07:00:00.415Z"}


def test_a_powertools_json_line_becomes_fields() -> None:
    line = json.dumps({"level": "WARNING", "location": "pay:12", "message": "card declined",
                       "timestamp": "2026-11-23 07:00:00,415+0000", "service": "orders",
                       "function_request_id": REQUEST, "order_id": "ord-1"})
    record = parse(line + "\n")
    assert record["kind"] == "json"
    assert record["level"] == "WARNING"
    assert record["message"] == "card declined"
    assert record["request_id"] == REQUEST
    assert record["fields"] == json.loads(line)


@pytest.mark.parametrize(("line", "level", "message"), [
    ('{"levelname": "error", "msg": "boom"}', "ERROR", "boom"),
    ('{"level": 50, "msg": "pino fatal"}', "ERROR", "pino fatal"),
    ('{"severity": "WARN", "message": "slow"}', "WARNING", "slow"),
    ('{"event": "no level here"}', None, None),
])
def test_other_structured_loggers_levels_and_messages(line: str, level: str | None,
                                                      message: str | None) -> None:
    record = parse(line)
    assert (record["kind"], record["level"], record["message"]) == ("json", level, message)


def test_json_that_is_not_an_object_is_text_or_raw() -> None:
    assert parse("[1, 2, 3]")["kind"] == "raw"
    assert parse("{not json")["kind"] == "raw"


def test_lambda_init_start_line() -> None:
    record = parse("INIT_START Runtime Version: python:3.13.v31\tRuntime Version ARN: arn:aws:"
                   "lambda:eu-west-1::runtime:0123\n")
    assert (record["kind"], record["fields"]) == ("lambda_init",
                                                  {"runtime_version": "python:3.13.v31"})


def test_lambda_start_and_end_lines() -> None:
    start = parse(f"START RequestId: {REQUEST} Version: $LATEST\n")
    assert (start["kind"], start["request_id"], start["fields"]) == (
        "lambda_start", REQUEST, {"version": "$LATEST"})
    end = parse(f"END RequestId: {REQUEST}\n")
    assert (end["kind"], end["request_id"]) == ("lambda_end", REQUEST)


def test_a_cold_start_report_line_gives_every_timing() -> None:
    record = parse(f"REPORT RequestId: {REQUEST}\tDuration: 289.51 ms\tBilled Duration: 702 ms"
                   f"\tMemory Size: 256 MB\tMax Memory Used: 81 MB\tInit Duration: 412.08 ms\t\n")
    assert record["kind"] == "lambda_report"
    assert record["request_id"] == REQUEST
    assert (record["duration_ms"], record["billed_duration_ms"], record["memory_size_mb"],
            record["max_memory_used_mb"], record["init_duration_ms"]) == (
        289.51, 702.0, 256.0, 81.0, 412.08)


def test_a_warm_report_line_has_no_init_duration_and_a_timeout_says_so() -> None:
    record = parse(f"REPORT RequestId: {REQUEST}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms"
                   f"\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: timeout\n")
    assert record["duration_ms"] == 3000.0
    assert "init_duration_ms" not in record
    assert record["fields"] == {"status": "timeout"}


def test_the_json_log_format_platform_report() -> None:
    record = parse(json.dumps({"time": "2026-11-23T08:00:02.000Z", "type": "platform.report",
                               "record": {"requestId": REQUEST, "status": "success", "metrics": {
                                   "durationMs": 1812.4, "billedDurationMs": 1813,
                                   "memorySizeMB": 512, "maxMemoryUsedMB": 201,
                                   "initDurationMs": 95.5}}}))
    assert (record["kind"], record["request_id"], record["duration_ms"],
            record["billed_duration_ms"], record["memory_size_mb"],
            record["max_memory_used_mb"], record["init_duration_ms"]) == (
        "lambda_report", REQUEST, 1812.4, 1813.0, 512.0, 201.0, 95.5)


def test_the_python_runtime_text_format() -> None:
    record = parse(f"[ERROR]\t2026-11-23T07:00:00.630Z\t{REQUEST}\tpayment timed out\n")
    assert (record["kind"], record["level"], record["logged_at"], record["request_id"],
            record["message"]) == ("text", "ERROR", "2026-11-23T07:00:00.630Z", REQUEST,
                                   "payment timed out")


def test_the_nodejs_runtime_text_format() -> None:
    record = parse(f"2026-11-23T07:00:00.630Z\t{REQUEST}\tWARN\tretrying\n")
    assert (record["kind"], record["level"], record["request_id"], record["message"]) == (
        "text", "WARNING", REQUEST, "retrying")


@pytest.mark.parametrize(("line", "level", "logged_at"), [
    ("2026-11-23T07:59:55.000Z WARN  [exec-3] c.e.Cart - cart 9911 empty", "WARNING",
     "2026-11-23T07:59:55.000Z"),
    ("[2026-11-23 07:59:55,120] INFO gunicorn booted", "INFO", "2026-11-23 07:59:55,120"),
    ("ERROR connection pool exhausted (max=20)", "ERROR", None),
    ("2026-11-23T07:59:55+01:00 plain line without a level", None, "2026-11-23T07:59:55+01:00"),
])
def test_plain_text_gets_its_level_and_timestamp(line: str, level: str | None,
                                                 logged_at: str | None) -> None:
    record = parse(line)
    assert (record["kind"], record["level"], record["logged_at"], record["message"]) == (
        "text", level, logged_at, line)


def test_anything_else_is_kept_raw() -> None:
    line = "    at com.example.checkout.Pool.acquire(Pool.java:88)"
    record = parse(line + "\n")
    assert (record["kind"], record["level"], record["message"], record["fields"]) == (
        "raw", None, line, None)


def test_a_level_word_inside_another_word_is_not_a_level() -> None:
    assert parse("the INFORMATION desk moved")["kind"] == "raw"


def test_iso_time_keeps_milliseconds() -> None:
    assert iso_time(0) == "1970-01-01T00:00:00.000Z"
    assert iso_time(1_795_417_200_007) == "2026-11-23T07:00:00.007Z"
