"""OpenSearch: bulk requests signed with SigV4 (service es), an index a day, a hash of owner, log
group and event id as document id, partial failures retried, refused records kept in the poison
queue, and a failing destination failing the invocation (the delivery is retried) without losing
the S3 objects."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import responses

from log_shipper import app, opensearch
from log_shipper.opensearch import DestinationError, send_bulk
from tests.conftest import REGION, FakeLambdaContext, load_event
from tests.log_shipper.conftest import ACCOUNT, ENDPOINT, objects

BULK = f"{ENDPOINT}/_bulk"
pytestmark = pytest.mark.usefixtures("shipper_env")


@pytest.fixture
def poison(monkeypatch: pytest.MonkeyPatch) -> str:
    url = boto3.client("sqs", region_name=REGION).create_queue(QueueName="poison")["QueueUrl"]
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("POISON_QUEUE_URL", url)
    return url


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(opensearch.time, "sleep", waits.append)
    return waits


@pytest.fixture
def domain() -> Any:
    with responses.RequestsMock() as mock:
        yield mock


def _answer(*statuses: int) -> dict[str, Any]:
    items = []
    for status in statuses:
        body: dict[str, Any] = {"_index": "logs-2026.11.23", "status": status}
        if status >= 400:
            body["error"] = ({"type": "mapper_parsing_exception",
                              "reason": "failed to parse field [fields.order_id]"}
                             if status == 400 else {"type": "es_rejected_execution_exception",
                                                    "reason": "queue full"})
        items.append({"index": body})
    return {"took": 5, "errors": any(s >= 300 for s in statuses), "items": items}


def _documents(body: bytes) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    lines = [json.loads(line) for line in body.splitlines()]
    return list(zip(lines[0::2], lines[1::2], strict=True))


def _poisoned(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in found]


def test_records_are_bulk_indexed_signed_one_index_a_day(
        domain: Any, poison: str, lambda_context: FakeLambdaContext) -> None:
    domain.post(BULK, json=_answer(*[201] * 6))
    result = app.lambda_handler(load_event("log_shipper/lambda-invocation.json"), lambda_context)
    assert (result["indexed"], result["poisoned"]) == (6, 0)
    (call,) = domain.calls
    headers = call.request.headers
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert f"/{REGION}/es/aws4_request" in headers["Authorization"]
    assert "X-Amz-Date" in headers
    assert "X-Amz-Security-Token" in headers
    assert headers["Content-Type"] == "application/x-ndjson"
    documents = _documents(call.request.body)
    assert {action["index"]["_index"] for action, _ in documents} == {"logs-2026.11.23"}
    assert [action["index"]["_id"] for action, _ in documents] == [
        opensearch.document_id({"account": ACCOUNT, "log_group_name": "/aws/lambda/orders-api",
                                "event_id": e["id"]}) for e in _source_events()]
    report = next(doc for _, doc in documents if doc["kind"] == "lambda_report")
    assert report["@timestamp"] == "2026-11-23T07:00:00.702Z"
    assert report["duration_ms"] == 289.51
    assert len(objects()) == 1  # S3 as well


def _source_events() -> list[dict[str, Any]]:
    from tests.log_shipper.make_samples import SOURCES

    events: list[dict[str, Any]] = json.loads(
        (SOURCES / "lambda-invocation.json").read_text())["logEvents"]
    return events


def test_a_partial_failure_retries_the_throttled_and_keeps_the_refused(
        domain: Any, poison: str, slept: list[float], lambda_context: FakeLambdaContext) -> None:
    domain.post(BULK, json=_answer(201, 201, 400, 429, 201, 503))
    domain.post(BULK, json=_answer(201, 201))
    result = app.lambda_handler(load_event("log_shipper/lambda-invocation.json"), lambda_context)
    assert (result["indexed"], result["poisoned"]) == (5, 1)
    first, retry = domain.calls
    sent = [action["index"]["_id"] for action, _ in _documents(first.request.body)]
    assert [action["index"]["_id"] for action, _ in _documents(retry.request.body)] == [
        sent[3], sent[5]]
    assert slept == [opensearch.BACKOFF_SECONDS[0]]
    (kept,) = _poisoned(poison)
    assert kept["reason"].startswith("400 mapper_parsing_exception")
    assert opensearch.document_id(kept["record"]) == sent[2]


def test_an_unavailable_domain_fails_the_invocation_and_keeps_s3(
        domain: Any, poison: str, slept: list[float], lambda_context: FakeLambdaContext) -> None:
    for _ in range(opensearch.ATTEMPTS):
        domain.post(BULK, status=503, body="Service Unavailable")
    event = load_event("log_shipper/lambda-invocation.json")
    with pytest.raises(DestinationError, match="did not take 6 of 6 records after 3 attempts"):
        app.lambda_handler(event, lambda_context)
    written = objects()
    assert len(written) == 1
    assert _poisoned(poison) == []
    # The retried delivery (Lambda retries the asynchronous invocation) completes the batch
    # and overwrites the same object.
    domain.post(BULK, json=_answer(*[201] * 6))
    assert app.lambda_handler(event, lambda_context)["indexed"] == 6
    assert objects() == written


@pytest.mark.parametrize(("status", "answer"), [
    (403, {"message": "no permissions for [indices:data/write/bulk]"}),
    (200, {"took": 1, "errors": False, "items": []}),
])
def test_an_unexpected_answer_fails_the_invocation(
        domain: Any, poison: str, status: int, answer: dict[str, Any],
        lambda_context: FakeLambdaContext) -> None:
    domain.post(BULK, status=status, json=answer)
    with pytest.raises(DestinationError, match=f"HTTP {status}"):
        app.lambda_handler(load_event("log_shipper/lambda-invocation.json"), lambda_context)


def test_refused_records_without_a_poison_queue_fail_the_invocation(
        domain: Any, monkeypatch: pytest.MonkeyPatch, lambda_context: FakeLambdaContext) -> None:
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", ENDPOINT)
    domain.post(BULK, json=_answer(201, 201, 400, 201, 201, 201))
    with pytest.raises(DestinationError, match="no POISON_QUEUE_URL"):
        app.lambda_handler(load_event("log_shipper/lambda-invocation.json"), lambda_context)


def test_large_batches_are_split_under_the_bulk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opensearch, "MAX_BULK_BYTES", 2000)
    records = [{"timestamp": 1_795_417_200_000, "time": "t", "event_id": str(n),
                "message": "m" * 500} for n in range(10)]
    bodies: list[bytes] = []

    def post(body: bytes) -> tuple[int, Any]:
        bodies.append(body)
        return 200, _answer(*[201] * (body.count(b"\n") // 2))

    assert send_bulk(post, records, "logs-").indexed == 10
    assert len(bodies) > 1
    assert all(len(body) <= 2000 for body in bodies)
