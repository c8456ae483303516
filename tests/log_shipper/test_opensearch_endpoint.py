"""OpenSearch: only an OpenSearch Service domain of the function's region is an endpoint, the
signature's region is the domain host's, a redirect is never followed, a 413 is split down to
single records, and the poison queue takes refused records in batches SQS accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import responses
from botocore.credentials import Credentials

from log_shipper import opensearch
from log_shipper.opensearch import (
    MAX_POISON_BATCH_BYTES,
    MAX_POISON_MESSAGE_BYTES,
    BulkClient,
    DestinationError,
    send_bulk,
    send_poison,
)
from log_shipper.settings import ShipperConfig
from opskit.config import ConfigError
from tests.conftest import REGION
from tools.catalog import load_template

BASE = {"LOG_BUCKET": "opskit-logs-123456789012-eu-west-1", "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "LOG_KMS_KEY_ARN": "arn:aws:kms:eu-west-1:123456789012:key/abcd-1234"}
DOMAIN = "https://search-logs-abc123.eu-west-1.es.amazonaws.com"
CREDENTIALS = Credentials("AKIDEXAMPLE", "secret", "SESSIONTOKEN")


@pytest.mark.parametrize(("endpoint", "why"), [
    ("https://169.254.169.254", "es.amazonaws.com"),  # the instance metadata address
    ("https://127.0.0.1", "es.amazonaws.com"),
    ("https://logs.example.com", "es.amazonaws.com"),
    ("http://search-logs-abc123.eu-west-1.es.amazonaws.com", "es.amazonaws.com"),
    ("https://search-logs-abc123.eu-west-1.es.amazonaws.com.example.com", "es.amazonaws.com"),
    ("https://search-logs-abc123.eu-west-1.es.amazonaws.com/_plugin", "es.amazonaws.com"),
    ("https://search-logs-abc123.us-east-1.es.amazonaws.com", "function's region eu-west-1"),
    ("https://abc123def456.eu-west-1.aoss.amazonaws.com", "Serverless"),
])
def test_an_endpoint_that_is_not_a_domain_of_this_region_is_refused(endpoint: str,
                                                                      why: str) -> None:
    with pytest.raises(ConfigError, match="OPENSEARCH_ENDPOINT") as refused:
        ShipperConfig.from_env({**BASE, "OPENSEARCH_ENDPOINT": endpoint})
    assert why in str(refused.value)


@pytest.mark.parametrize("endpoint", [
    DOMAIN, f"{DOMAIN}/", "https://vpc-logs-abc123def.eu-west-1.es.amazonaws.com"])
def test_a_domain_endpoint_of_this_region_is_accepted(endpoint: str) -> None:
    config = ShipperConfig.from_env({**BASE, "OPENSEARCH_ENDPOINT": endpoint})
    assert config.opensearch_endpoint == endpoint.rstrip("/")


def test_the_template_allows_the_same_endpoints() -> None:
    root = Path(__file__).resolve().parents[2]
    for path in (root / "template.yaml", root / "functions" / "log_shipper" / "template.yaml"):
        pattern = load_template(path)["Parameters"]["LogShipperOpenSearchEndpoint"][
            "AllowedPattern"]
        assert re.fullmatch(pattern, DOMAIN)
        assert re.fullmatch(pattern, "")
        for refused in ("https://127.0.0.1", "https://logs.example.com",
                        "http://search-logs-abc123.eu-west-1.es.amazonaws.com",
                        "https://abc123def456.eu-west-1.aoss.amazonaws.com"):
            assert not re.fullmatch(pattern, refused)


@responses.activate
def test_the_signature_scope_is_the_domain_hosts_region_and_service_es() -> None:
    responses.add(responses.POST, f"{DOMAIN}/_bulk", json={"items": []})
    BulkClient(DOMAIN, REGION, CREDENTIALS, requests.Session()).post(b"")
    (call,) = responses.calls
    assert f"/{REGION}/es/aws4_request" in call.request.headers["Authorization"]


def test_a_client_for_a_domain_of_another_region_is_refused() -> None:
    with pytest.raises(ValueError, match="us-east-1"):
        BulkClient("https://search-logs-abc123.us-east-1.es.amazonaws.com", REGION,
                   CREDENTIALS, requests.Session())


@responses.activate
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_and_fails_the_delivery(status: int) -> None:
    responses.add(responses.POST, f"{DOMAIN}/_bulk", status=status,
                  headers={"Location": "https://collector.example.com/_bulk"})
    responses.add(responses.POST, "https://collector.example.com/_bulk", json={})
    client = BulkClient(DOMAIN, REGION, CREDENTIALS, requests.Session())
    with pytest.raises(DestinationError, match=f"HTTP {status}"):
        client.post(b'{"index":{}}\n{}\n')
    assert [call.request.url for call in responses.calls] == [f"{DOMAIN}/_bulk"]


def _records(count: int, size: int = 1000) -> list[dict[str, Any]]:
    return [{"timestamp": 1_795_417_200_000, "time": "2026-11-23T07:00:00.000Z",
             "account": "123456789012", "log_group_name": "/a",
             "event_id": str(n), "message": "m" * size} for n in range(count)]


def test_a_413_splits_the_request_in_halves_until_it_fits() -> None:
    bodies: list[int] = []

    def post(body: bytes) -> tuple[int, Any]:
        lines = body.count(b"\n") // 2
        bodies.append(lines)
        if lines > 10:
            return 413, None
        return 200, {"errors": False, "items": [{"index": {"status": 201}}] * lines}

    result = send_bulk(post, _records(100), "logs-", sleep=lambda _: None)
    assert (result.indexed, result.poisoned) == (100, [])
    assert sum(lines for lines in bodies if lines <= 10) == 100
    assert bodies[:3] == [100, 50, 25]


def test_a_single_record_still_too_large_goes_to_the_poison_queue() -> None:
    records = _records(4)
    records[2]["message"] = "m" * 50_000

    def post(body: bytes) -> tuple[int, Any]:
        if len(body) > 20_000:
            return 413, None
        lines = body.count(b"\n") // 2
        return 200, {"errors": False, "items": [{"index": {"status": 201}}] * lines}

    result = send_bulk(post, records, "logs-", sleep=lambda _: None)
    assert result.indexed == 3
    ((record, reason),) = result.poisoned
    assert (record["event_id"], reason.split()[0]) == ("2", "413")


@pytest.mark.usefixtures("aws")
def test_ten_large_refused_records_are_all_kept_in_the_poison_queue() -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="poison")["QueueUrl"]
    poisoned = [({"event_id": str(n), "message": "x" * 200_000}, "400 mapper_parsing_exception")
                for n in range(10)]
    assert send_poison(sqs, url, poisoned) == 10
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert got["Attributes"]["ApproximateNumberOfMessages"] == "10"


def test_each_poison_batch_stays_within_sqs_limits() -> None:
    bodies = [opensearch.poison_body({"event_id": str(n), "message": "é" * 300_000}, "400 x")
              for n in range(5)] + ["{}"] * 25
    batches = opensearch.poison_batches(bodies)
    assert [index for batch in batches for index, _ in batch] == list(range(30))
    for batch in batches:
        assert len(batch) <= 10
        assert sum(len(body.encode()) for _, body in batch) <= MAX_POISON_BATCH_BYTES
    for body in bodies[:5]:
        assert len(body.encode()) <= MAX_POISON_MESSAGE_BYTES
        assert json.loads(body)["record"]["truncated"] is True


def test_a_multibyte_message_is_cut_to_the_encoded_size() -> None:
    body = opensearch.poison_body({"event_id": "1", "message": "\U0001f600" * 200_000,
                                   "fields": {"a": 1}}, "400 x")
    record = json.loads(body)["record"]
    assert len(body.encode()) <= MAX_POISON_MESSAGE_BYTES
    assert record["fields"] is None
    assert record["message"]


def test_each_entry_the_poison_queue_refuses_is_reported() -> None:
    class Queue:
        def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]  # noqa: N803
                               ) -> dict[str, Any]:
            return {"Successful": [{"Id": e["Id"]} for e in Entries[1:]],
                    "Failed": [{"Id": Entries[0]["Id"], "Code": "InvalidMessageContents",
                                "Message": "bad", "SenderFault": True}]}

    poisoned = [({"event_id": str(n), "message": "x"}, "400 x") for n in range(12)]
    with pytest.raises(DestinationError) as failed:
        send_poison(Queue(), "https://sqs.eu-west-1.amazonaws.com/123456789012/poison",  # type: ignore[arg-type]
                    poisoned)
    assert "refused 2 of 12 records" in str(failed.value)
    assert "record 0: InvalidMessageContents bad" in str(failed.value)
    assert "record 10: InvalidMessageContents bad" in str(failed.value)
