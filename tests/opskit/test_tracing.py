"""Tracing follows the stack's Tracing parameter: with Active, Powertools' Tracer records the
invocation and each AWS call; otherwise the X-Ray SDK is not even imported.

Each case runs in a subprocess (the Tracer patches botocore for the whole process), with a UDP
socket standing in for the X-Ray daemon that Lambda runs beside the function."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration

PROBE = r'''
import json, os, socket, sys
daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
daemon.bind(("127.0.0.1", 0))
daemon.settimeout(1)
os.environ["AWS_XRAY_DAEMON_ADDRESS"] = f"127.0.0.1:{daemon.getsockname()[1]}"
import boto3
from moto import mock_aws
from opskit.handler import Trigger, automation

@automation("probe", config=lambda: None, triggers={Trigger.MESSAGES})
def handler(run):
    boto3.client("sts", region_name="eu-west-1").get_caller_identity()
    return {"report": "not for the trace"}

class Context:
    function_name = "probe"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:probe"
    aws_request_id = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    function_version = "$LATEST"

with mock_aws():
    handler({"Records": []}, Context())
sent = []
try:
    while True:
        sent.append(json.loads(daemon.recvfrom(65536)[0].decode().split("\n", 1)[1]))
except socket.timeout:
    pass
print(json.dumps({"sent": sent, "xray_imported": "aws_xray_sdk" in sys.modules}))
'''


def run_probe(tracing: str | None) -> dict[str, object]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({
        "PYTHONPATH": os.pathsep.join([str(ROOT / "shared_layer"), str(ROOT / "functions")]),
        "LAMBDA_TASK_ROOT": "/var/task", "AWS_LAMBDA_FUNCTION_NAME": "probe",
        "_X_AMZN_TRACE_ID": "Root=1-6742d92d-3b2f1c0e8d7a6b5c4d3e2f1a;Parent=53995c3f42cd8ad8;"
                            "Sampled=1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": "probe", "POWERTOOLS_METRICS_NAMESPACE": "Opskit",
    })
    env.pop("TRACING", None)
    if tracing is not None:
        env["TRACING"] = tracing
    done = subprocess.run(  # noqa: S603 (this interpreter, the probe above)
        [sys.executable, "-c", PROBE], env=env, capture_output=True,
        text=True, timeout=120, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_active_tracing_records_the_invocation_and_each_aws_call() -> None:
    result = run_probe("Active")
    sent = {doc["name"]: doc for doc in result["sent"]}  # type: ignore[attr-defined]
    handler = sent["## handler"]
    assert handler["annotations"] == {"ColdStart": True, "Service": "probe"}
    assert handler["trace_id"] == "1-6742d92d-3b2f1c0e8d7a6b5c4d3e2f1a"
    assert "metadata" not in handler  # the reply (the report) is not copied into the trace
    call = sent["sts"]
    assert call["aws"]["operation"] == "GetCallerIdentity"
    assert call["parent_id"] == handler["id"]


@pytest.mark.parametrize("tracing", [None, "PassThrough"])
def test_without_active_tracing_the_xray_sdk_is_not_even_imported(tracing: str | None) -> None:
    result = run_probe(tracing)
    assert result == {"sent": [], "xray_imported": False}
