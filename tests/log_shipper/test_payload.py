"""Malformed subscription payloads are refused with the field and value named, before anything
is written; a control message is acknowledged."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from log_shipper.payload import read_delivery
from opskit import logs_payload
from opskit.events import EventError
from tests.conftest import load_event
from tests.log_shipper.conftest import payload, wrap


def test_the_sample_decodes_to_a_delivery() -> None:
    delivery = read_delivery(load_event("log_shipper/lambda-invocation.json"))
    assert (delivery.owner, delivery.log_group, len(delivery.events)) == (
        "123456789012", "/aws/lambda/orders-api", 6)
    assert not delivery.is_control


def test_a_control_message_is_acknowledged_with_no_events() -> None:
    delivery = read_delivery(load_event("log_shipper/control-message.json"))
    assert delivery.is_control
    assert delivery.events == ()


def _with(**changes: Any) -> dict[str, Any]:
    body = payload(["hello"])
    body.update(changes)
    return wrap(body)


def _event(**changes: Any) -> dict[str, Any]:
    body = payload(["hello"])
    body["logEvents"][0].update(changes)
    return wrap(body)


@pytest.mark.parametrize(("event", "named"), [
    ({}, "event=[]"),
    ({**_with(), "detail": {}}, "event=['awslogs', 'detail']"),
    ({"awslogs": "data"}, "awslogs='data'"),
    ({"awslogs": {"data": "%%% not base64 %%%"}}, "awslogs.data='Error"),
    ({"awslogs": {"data": base64.b64encode(b"not gzip").decode()}}, "awslogs.data='error"),
    ({"awslogs": {"data": base64.b64encode(gzip.compress(b"{nope")).decode()}},
     "awslogs.data='JSONDecodeError"),
    ({"awslogs": {"data": 42}}, "awslogs.data='TypeError"),
    (wrap([1, 2]), "awslogs.data='list'"),
    (_with(messageType="DATA"), "messageType='DATA'"),
    (_with(owner="12345"), "owner='12345'"),
    (_with(owner=123456789012), "owner=123456789012"),
    (_with(logGroup="/aws/lambda/orders api"), "logGroup='/aws/lambda/orders api'"),
    (_with(logGroup=""), "logGroup=''"),
    (_with(logStream="a:b"), "logStream='a:b'"),
    (_with(logEvents={"id": "1"}), "logEvents='dict'"),
    (_with(subscriptionFilters="f"), "subscriptionFilters='f'"),
    (_event(id="abc"), "logEvents[0].id='abc'"),
    (_event(timestamp="2026-11-23"), "logEvents[0].timestamp='2026-11-23'"),
    (_event(timestamp=-1), "logEvents[0].timestamp=-1"),
    (_event(message=None), "logEvents[0].message='NoneType'"),
])
def test_a_malformed_payload_names_what_is_wrong(event: dict[str, Any], named: str) -> None:
    with pytest.raises(EventError) as refused:
        read_delivery(event)
    assert str(refused.value).startswith(named)
    assert "is invalid: expected" in str(refused.value)


def test_a_payload_expanding_past_the_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs_payload, "MAX_DECOMPRESSED_BYTES", 1024)
    bomb = wrap({"logEvents": [{"message": "x" * 10_000}]})
    with pytest.raises(EventError, match=r"awslogs.data='ValueError: awslogs.data "
                                         r"expands past 1024 bytes'"):
        read_delivery(bomb)


def test_the_cap_admits_a_full_size_delivery() -> None:
    """CloudWatch Logs batches at most 1 MB of events; far below the cap."""
    body = payload(["y" * 1000] * 1000)
    assert len(json.dumps(body)) < logs_payload.MAX_DECOMPRESSED_BYTES
    assert len(read_delivery(wrap(body)).events) == 1000
