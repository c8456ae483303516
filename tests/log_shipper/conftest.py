"""The log shipper's fixtures: the bucket and key in moto, the settings, payload builders."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import boto3
import pytest

from tests.conftest import REGION
from tests.log_shipper.seed import BUCKET, create_destination

ACCOUNT = "123456789012"
ENDPOINT = "https://search-logs-abc123.eu-west-1.es.amazonaws.com"


def wrap(payload: Any) -> dict[str, dict[str, str]]:
    raw = json.dumps(payload).encode()
    return {"awslogs": {"data": base64.b64encode(gzip.compress(raw, mtime=0)).decode()}}


def payload(messages: list[str], *, group: str = "/aws/lambda/orders-api",
            stream: str = "2026/11/23/[$LATEST]abc", owner: str = ACCOUNT,
            start_ms: int = 1_795_417_200_000, step_ms: int = 1000) -> dict[str, Any]:
    return {"messageType": "DATA_MESSAGE", "owner": owner, "logGroup": group,
            "logStream": stream, "subscriptionFilters": ["opskit-log-shipper"],
            "logEvents": [{"id": f"{386000000000000000000 + n}",
                           "timestamp": start_ms + n * step_ms, "message": text}
                          for n, text in enumerate(messages)]}


def objects() -> dict[str, bytes]:
    s3 = boto3.client("s3", region_name=REGION)
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def rows(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(body).splitlines()]


@pytest.fixture
def shipper_env(aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    variables = create_destination()
    for name, value in {**variables, "POWERTOOLS_SERVICE_NAME": "log_shipper"}.items():
        monkeypatch.setenv(name, value)
    for name in ("OPENSEARCH_ENDPOINT", "POISON_QUEUE_URL", "MASKED_FIELDS", "LOG_GROUPS",
                 "SOURCE_ACCOUNTS", "ALERT_TOPIC_ARN"):
        monkeypatch.delenv(name, raising=False)
    return variables
