"""opskit.batch: SQS partial batch responses (standard and FIFO queues, malformed batches)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from opskit.batch import BatchEventError, process_partial, records_of

STANDARD = "arn:aws:sqs:eu-west-1:123456789012:opskit-alerts"
FIFO = "arn:aws:sqs:eu-west-1:123456789012:opskit-work.fifo"


def record(message_id: str, body: str, queue: str = STANDARD) -> dict[str, Any]:
    return {"messageId": message_id, "receiptHandle": f"handle-{message_id}", "body": body,
            "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
            "md5OfBody": "0" * 32, "eventSource": "aws:sqs", "eventSourceARN": queue,
            "awsRegion": "eu-west-1"}


class Recorder:
    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.handled: list[str] = []

    def __call__(self, item: Mapping[str, Any]) -> None:
        self.handled.append(item["body"])
        if item["body"] in self.failing:
            raise RuntimeError(f"{item['body']} failed")


def test_every_record_handled_and_only_the_failures_returned() -> None:
    handle = Recorder({"b", "d"})
    records = [record(f"id-{body}", body) for body in "abcde"]
    assert process_partial(records, handle) == {
        "batchItemFailures": [{"itemIdentifier": "id-b"}, {"itemIdentifier": "id-d"}]}
    assert handle.handled == list("abcde")


def test_all_handled_returns_an_empty_failure_list() -> None:
    handle = Recorder(set())
    assert process_partial([record("1", "a")], handle) == {"batchItemFailures": []}
    assert process_partial([], handle) == {"batchItemFailures": []}


def test_fifo_stops_at_the_first_failure_and_returns_the_rest_unhandled() -> None:
    handle = Recorder({"b"})
    records = [record(f"id-{body}", body, FIFO) for body in "abcd"]
    assert process_partial(records, handle) == {"batchItemFailures": [
        {"itemIdentifier": "id-b"}, {"itemIdentifier": "id-c"}, {"itemIdentifier": "id-d"}]}
    assert handle.handled == ["a", "b"]


def test_a_failure_is_logged_with_its_message_id(caplog: pytest.LogCaptureFixture) -> None:
    process_partial([record("id-x", "x")], Recorder({"x"}))
    assert "id-x" in caplog.text or any(
        getattr(r, "message_id", None) == "id-x" for r in caplog.records)


@pytest.mark.parametrize(("event", "message"), [
    ({"Records": "nope"}, "Records is str, not a list"),
    ({}, "Records is NoneType, not a list"),
    ({"Records": [record("1", "a"), ["odd"]]}, "Records[1] is a list, not an SQS record"),
    ({"Records": [record("1", "a"), {"body": "b"}]}, "Records[1].messageId is None"),
    ({"Records": [{"messageId": ""}]}, "Records[0].messageId is ''"),
])
def test_a_malformed_batch_is_refused_before_any_record_is_handled(
        event: dict[str, Any], message: str) -> None:
    handle = Recorder(set())
    with pytest.raises(BatchEventError, match=message.replace("[", r"\[").replace("]", r"\]")):
        process_partial(records_of(event), handle)
    assert handle.handled == []
