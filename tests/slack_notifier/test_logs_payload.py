"""CloudWatch Logs subscription payloads (base64 of gzip of JSON) decoded without Powertools'
event classes, with the expanded size capped."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from pathlib import Path

import pytest

from slack_notifier import sources
from slack_notifier.sources import decode_logs_data, from_logs_event

SAMPLE = Path(__file__).resolve().parents[2] / "events" / "slack_notifier" / \
    "logs-subscription-errors.json"


def wrap(raw: bytes) -> dict[str, dict[str, str]]:
    return {"awslogs": {"data": base64.b64encode(raw).decode()}}


def test_the_sample_event_decodes_to_its_log_events() -> None:
    payload = decode_logs_data(json.loads(SAMPLE.read_text()))
    assert payload["messageType"] == "DATA_MESSAGE"
    assert payload["logEvents"]
    assert all("message" in e for e in payload["logEvents"])


def test_gzip_and_zlib_headers_both_decode() -> None:
    body = {"messageType": "DATA_MESSAGE", "logGroup": "/aws/lambda/orders", "logEvents": []}
    raw = json.dumps(body).encode()
    assert decode_logs_data(wrap(gzip.compress(raw))) == body
    assert decode_logs_data(wrap(zlib.compress(raw))) == body


@pytest.mark.parametrize(("event", "shown"), [
    ({"awslogs": {"data": "%%% not base64 %%%"}}, "Error"),
    (wrap(b"not gzip at all"), "error"),
    (wrap(gzip.compress(b"{not json")), "JSONDecodeError"),
    ({"awslogs": {"data": 42}}, "TypeError"),
])
def test_an_undecodable_payload_becomes_a_readable_message(event: dict[str, object],
                                                           shown: str) -> None:
    incoming = from_logs_event(event, "eu-west-1")
    assert isinstance(incoming.payload, str)
    assert incoming.payload.startswith("(undecodable CloudWatch Logs payload:")
    assert shown in incoming.payload


def test_a_payload_that_expands_past_the_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "LOGS_MAX_DECOMPRESSED", 1024)
    bomb = gzip.compress(json.dumps({"logEvents": [{"message": "x" * 10_000}]}).encode())
    with pytest.raises(ValueError, match="expands past 1024 bytes"):
        decode_logs_data(wrap(bomb))
    assert from_logs_event(wrap(bomb), "eu-west-1").payload == (
        "(undecodable CloudWatch Logs payload: ValueError)")
