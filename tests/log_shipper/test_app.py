"""Shipping end to end in moto: the objects, their encryption and layout, idempotent retries,
refused payloads that write nothing, and the calls made."""

from __future__ import annotations

import boto3
import pytest

from log_shipper import app
from opskit.events import EventError
from tests.conftest import REGION, ApiCalls, FakeLambdaContext, load_event
from tests.log_shipper.conftest import objects, payload, rows, wrap
from tests.log_shipper.seed import BUCKET

pytestmark = pytest.mark.usefixtures("shipper_env")


def test_a_delivery_lands_as_one_encrypted_gzip_ndjson_object(
        lambda_context: FakeLambdaContext, shipper_env: dict[str, str]) -> None:
    result = app.lambda_handler(load_event("log_shipper/lambda-invocation.json"), lambda_context)
    (key,) = objects()
    assert result == {"delivered": True, "log_group": "/aws/lambda/orders-api", "events": 6,
                      "objects": [key], "indexed": 0, "poisoned": 0}
    assert key.startswith("logs/log_group=aws.lambda.orders-api/year=2026/month=11/day=23/"
                          "hour=07/")
    head = boto3.client("s3", region_name=REGION).head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == shipper_env["LOG_KMS_KEY_ARN"]
    assert head["ContentType"] == "application/x-ndjson"
    lines = rows(objects()[key])
    assert [line["kind"] for line in lines] == ["lambda_init", "lambda_start", "json", "text",
                                                "lambda_end", "lambda_report"]
    assert {(line["account"], line["region"]) for line in lines} == {("123456789012", REGION)}


def test_a_retried_delivery_overwrites_the_same_object(lambda_context: FakeLambdaContext,
                                                       api_calls: ApiCalls) -> None:
    event = load_event("log_shipper/app-text-logs.json")  # two hours: two partitions
    first = app.lambda_handler(event, lambda_context)
    written = objects()
    second = app.lambda_handler(event, lambda_context)
    assert first["objects"] == second["objects"]
    assert len(first["objects"]) == 2
    assert objects() == written  # same keys, same bytes, nothing added
    assert api_calls.of("s3", "PutObject") == 4
    assert api_calls.of("sts", "GetCallerIdentity") == 1  # asked once per container


def test_the_masks_apply_before_the_write(lambda_context: FakeLambdaContext,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASKED_FIELDS", "$.user.email")
    app.lambda_handler(load_event("log_shipper/lambda-invocation.json"), lambda_context)
    (body,) = objects().values()
    assert b"jane@example.com" not in rows_text(body)
    assert b'\\"email\\":\\"***\\"' in rows_text(body)


def rows_text(body: bytes) -> bytes:
    import gzip

    return gzip.decompress(body)


@pytest.mark.parametrize(("event", "named"), [
    ({"awslogs": {"data": "not base64!"}}, "awslogs.data="),
    (wrap({**payload(["x"]), "logGroup": "bad group"}), "logGroup='bad group'"),
    (load_event("log_shipper/invalid-owner.json"), "owner='12345'"),
])
def test_a_malformed_payload_is_refused_and_writes_nothing(
        event: dict[str, object], named: str, lambda_context: FakeLambdaContext,
        api_calls: ApiCalls) -> None:
    with pytest.raises(EventError, match=named):
        app.lambda_handler(event, lambda_context)
    assert objects() == {}
    assert api_calls.of("s3") == 0


def test_a_payload_with_one_bad_event_writes_none_of_the_good_ones(
        lambda_context: FakeLambdaContext) -> None:
    body = payload(["good", "good too", "bad"])
    body["logEvents"][2]["timestamp"] = "yesterday"
    with pytest.raises(EventError, match=r"logEvents\[2\].timestamp='yesterday'"):
        app.lambda_handler(wrap(body), lambda_context)
    assert objects() == {}


def test_another_accounts_logs_are_refused_with_the_owner_named(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only this account's logs are shipped (CloudWatch Logs may invoke the function for this
    account's log groups only); no setting widens that."""
    event = wrap(payload(["from elsewhere"], owner="210987654321"))
    with pytest.raises(EventError, match=r"owner='210987654321' is invalid: expected this "
                                         r"function's account \(123456789012\)"):
        app.lambda_handler(event, lambda_context)
    monkeypatch.setenv("SOURCE_ACCOUNTS", "210987654321")  # not a setting: changes nothing
    with pytest.raises(EventError, match="owner='210987654321'"):
        app.lambda_handler(event, lambda_context)
    assert objects() == {}


def test_a_control_message_is_acknowledged_and_writes_nothing(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    result = app.lambda_handler(load_event("log_shipper/control-message.json"), lambda_context)
    assert result["control_message"] is True
    assert objects() == {}
    assert api_calls.of("s3") == 0


def test_a_full_size_delivery_is_accepted_past_the_other_triggers_event_limit(
        lambda_context: FakeLambdaContext) -> None:
    import os

    noise = [os.urandom(300).hex() for _ in range(600)]  # incompressible: about 500 KB of gzip
    event = wrap(payload(noise, step_ms=1))
    assert len(event["awslogs"]["data"]) > 256 * 1024
    assert app.lambda_handler(event, lambda_context)["events"] == 600


def test_dry_run_does_not_stop_shipping(lambda_context: FakeLambdaContext,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    app.lambda_handler(load_event("log_shipper/lambda-invocation.json"), lambda_context)
    assert len(objects()) == 1


def test_a_missing_bucket_setting_is_named(lambda_context: FakeLambdaContext,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from opskit.config import ConfigError

    monkeypatch.setenv("LOG_BUCKET", "Not_A_Bucket")
    with pytest.raises(ConfigError, match="LOG_BUCKET='Not_A_Bucket' is invalid"):
        app.lambda_handler(load_event("log_shipper/lambda-invocation.json"), lambda_context)


def test_requests_is_imported_only_when_opensearch_is_configured(
        shipper_env: dict[str, str]) -> None:
    """The HTTP library costs cold-start time: S3-only shipping never loads it."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    probe = ("import json, sys\n"
             "from log_shipper.app import destinations\n"
             "from log_shipper.settings import ShipperConfig\n"
             "plain = destinations(ShipperConfig.from_env())\n"
             "before = 'requests' in sys.modules\n"
             "import os; os.environ['OPENSEARCH_ENDPOINT'] = 'https://search-x.eu-west-1.es.amazonaws.com'\n"
             "searching = destinations(ShipperConfig.from_env())\n"
             "print(json.dumps([plain.bulk is None, before, searching.bulk is not None,\n"
             "                  'requests' in sys.modules]))\n")
    env = {**os.environ, **shipper_env,
           "PYTHONPATH": os.pathsep.join([str(root / "shared_layer"), str(root / "functions")])}
    env.pop("OPENSEARCH_ENDPOINT", None)
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,  # noqa: S603
                          text=True, check=True, timeout=120)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [True, False, True, True]
