"""The S3 layout: Hive-style partitions, one gzip NDJSON object per delivery and partition,
named after the delivery so that a retry makes the same key and the same bytes."""

from __future__ import annotations

import gzip
import json

from log_shipper.parsing import parse_delivery
from log_shipper.payload import read_delivery
from log_shipper.writer import COLUMNS, build_objects, delivery_name, partition_of, partition_value
from tests.conftest import load_event
from tests.log_shipper.conftest import payload, wrap

HOUR_MS = 3_600_000


def test_a_log_group_is_one_path_segment() -> None:
    assert partition_value("/aws/lambda/orders-api") == "aws.lambda.orders-api"
    assert partition_value("/ecs/checkout") == "ecs.checkout"
    assert partition_value("plain_name#1") == "plain_name#1"


def test_partitions_are_hive_style_utc_hours() -> None:
    assert partition_of("/aws/lambda/orders-api", 1_795_417_200_415) == (
        "log_group=aws.lambda.orders-api/year=2026/month=11/day=23/hour=07/")
    assert partition_of("/g", 1_795_417_200_000 + 17 * HOUR_MS) == (
        "log_group=g/year=2026/month=11/day=24/hour=00/")


def _objects(body: dict[str, object]) -> dict[str, tuple[bytes, int]]:
    delivery = read_delivery(wrap(body))
    return build_objects("logs/", delivery, parse_delivery(delivery, "eu-west-1"))


def test_one_object_per_partition_named_after_the_delivery() -> None:
    body = payload(["a", "b", "c"], start_ms=1_795_420_799_000, step_ms=1000)  # 07:59:59 on
    objects = _objects(body)
    name = delivery_name(read_delivery(wrap(body)))
    assert sorted(objects) == [
        f"logs/log_group=aws.lambda.orders-api/year=2026/month=11/day=23/hour=07/{name}.json.gz",
        f"logs/log_group=aws.lambda.orders-api/year=2026/month=11/day=23/hour=08/{name}.json.gz"]
    assert sorted(count for _, count in objects.values()) == [1, 2]


def test_the_same_delivery_makes_the_same_keys_and_bytes() -> None:
    body = payload(["one", "two"])
    assert _objects(body) == _objects(json.loads(json.dumps(body)))


def test_another_delivery_of_the_stream_gets_another_name() -> None:
    first, second = payload(["one"]), payload(["two"])
    second["logEvents"][0]["id"] = "386000000000000000099"
    assert set(_objects(first)).isdisjoint(_objects(second))


def test_each_line_has_every_column_and_fields_as_json_text() -> None:
    delivery = read_delivery(load_event("log_shipper/lambda-invocation.json"))
    objects = build_objects("logs/", delivery, parse_delivery(delivery, "eu-west-1"))
    ((body, count),) = objects.values()
    lines = [json.loads(line) for line in gzip.decompress(body).splitlines()]
    assert count == len(lines) == 6
    assert all(list(line) == list(COLUMNS) for line in lines)
    powertools = next(line for line in lines if line["kind"] == "json")
    assert json.loads(powertools["fields"])["order_id"] == "ord-1001"
    report = next(line for line in lines if line["kind"] == "lambda_report")
    assert (report["duration_ms"], report["init_duration_ms"]) == (289.51, 412.08)
    assert gzip.decompress(body).endswith(b"\n")


def test_odd_events_never_block_their_delivery() -> None:
    """A lone surrogate escape, JSON nested past the parser's depth, a number past Python's
    digit limit: each is still written, as well as it can be."""
    odd = ['{"text": "\\ud800 alone"}', "[" * 100_000, '{"n": ' + "9" * 5000 + "}",
           "caf\u00e9 \u2603 ok"]
    objects = _objects(payload(odd))
    ((body, count),) = objects.values()
    lines = [json.loads(line) for line in gzip.decompress(body).splitlines()]
    assert count == len(lines) == 4
    assert json.loads(lines[0]["fields"]) == {"text": "? alone"}
    assert [line["kind"] for line in lines[1:]] == ["raw", "raw", "raw"]
    assert lines[3]["message"] == "caf\u00e9 \u2603 ok"
