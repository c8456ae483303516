"""The Glue table in the template matches what the writer writes: columns, partition keys and
the projection's location template, so Athena queries the bucket at once."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from log_shipper.writer import COLUMNS, partition_of
from tools.catalog import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "functions" / "log_shipper" / "template.yaml"
RESOURCES: dict[str, Any] = load_template(TEMPLATE)["Resources"]
TABLE = RESOURCES["LogShipperTable"]["Properties"]["TableInput"]


def test_the_columns_are_the_writers() -> None:
    columns = TABLE["StorageDescriptor"]["Columns"]
    assert [c["Name"] for c in columns] == list(COLUMNS)
    types = {c["Name"]: c["Type"] for c in columns}
    assert types["timestamp"] == "bigint"
    assert {types[c] for c in ("duration_ms", "billed_duration_ms", "init_duration_ms")} == {
        "double"}
    assert TABLE["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == (
        "org.openx.data.jsonserde.JsonSerDe")


def test_partition_projection_covers_the_layout() -> None:
    parameters = TABLE["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.log_group.type"] == "injected"
    for column, low, high in (("year", 2024, 2099), ("month", 1, 12), ("day", 1, 31),
                              ("hour", 0, 23)):
        assert parameters[f"projection.{column}.type"] == "integer"
        assert parameters[f"projection.{column}.range"] == f"{low},{high}"
    assert [k["Name"] for k in TABLE["PartitionKeys"]] == ["log_group", "year", "month", "day",
                                                           "hour"]
    template = parameters["storage.location.template"]["Fn::Sub"]
    assert template.startswith("s3://${LogShipperBucket}/logs/")
    path = template.removeprefix("s3://${LogShipperBucket}/logs/")
    written = partition_of("/aws/lambda/orders-api", 1_795_417_200_000)
    values = {"log_group": "aws.lambda.orders-api", "year": "2026", "month": "11", "day": "23",
              "hour": "07"}
    assert re.sub(r"\$\{!(\w+)\}", lambda m: values[m[1]], path) == written
    assert parameters["projection.month.digits"] == parameters["projection.day.digits"] == "2"
    assert parameters["projection.hour.digits"] == "2"


def test_the_bucket_is_private_encrypted_and_expires_logs() -> None:
    bucket = RESOURCES["LogShipperBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["BucketKeyEnabled"] is True
    (expiry, *_) = bucket["LifecycleConfiguration"]["Rules"]
    assert expiry["ExpirationInDays"] == {"Ref": "LogShipperRetentionDays"}


def test_only_this_accounts_log_groups_may_invoke_the_function() -> None:
    permission = RESOURCES["LogShipperLogsPermission"]["Properties"]
    assert permission["Principal"] == "logs.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert permission["SourceArn"]["Fn::Sub"].endswith(
        ":logs:${AWS::Region}:${AWS::AccountId}:log-group:*")


def test_the_role_writes_only_under_the_prefix_and_posts_only_bulk_requests() -> None:
    statements = RESOURCES["LogShipperFunction"]["Properties"]["Policies"][0]["Statement"]
    by_sid = {s["Sid"]: s for s in statements if "Sid" in s}
    assert by_sid["WriteLogObjects"]["Resource"] == {"Fn::Sub": "${LogShipperBucket.Arn}/logs/*"}
    optional = [s["Fn::If"] for s in statements if "Fn::If" in s]
    opensearch = next(branch[1] for branch in optional if branch[1]["Sid"] ==
                      "IndexIntoOpenSearch")
    assert opensearch["Action"] == "es:ESHttpPost"
    assert opensearch["Resource"]["Fn::Sub"].endswith(":domain/*/_bulk")
    assert all(branch[0] == "LogShipperOpenSearch" for branch in optional)
