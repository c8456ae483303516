"""The built artifact, not the source tree: each function as `sam build` made it, imported with only
what Lambda has on `sys.path`, runs its sample event against moto in server mode, on the oldest and
the newest boto3/botocore this project supports (`runtime-sdks.txt`).

A layer dependency missing from `shared_layer/requirements.txt`, a module only the dev venv has, or
an API parameter the runtime's botocore does not know fails here. `make test` builds first and sets
OPSKIT_ARTIFACT_REQUIRED=1, so a missing build fails instead of skipping.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from opskit.codecache import FILE as CODECACHE_FILE
from tests.conftest import ACCOUNT, REGION, load_event, make_alert_inbox, seed_event
from tests.lambda_env import (
    ROOT,
    SAMPLES,
    LocalFunction,
    local_functions,
    sam_local_environment,
)

HERE = Path(__file__).resolve().parent
BUILD = ROOT / ".aws-sam" / "build"
SDK_ROOT = ROOT / ".aws-sam" / "runtime-sdk"
SDKS = [version for line in (HERE / "runtime-sdks.txt").read_text().splitlines()
        if (version := line.split("#", 1)[0].strip())]
REQUIRED = os.environ.get("OPSKIT_ARTIFACT_REQUIRED") == "1"
FUNCTIONS = local_functions()


def _absent(what: str) -> None:
    message = f"{what} is missing: run `make artifact` (sam build and the runtime SDKs) first"
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class FakeSlack:
    """An HTTPS webhook on 127.0.0.1 with a self-signed certificate the child is told to trust."""

    url: str
    ca_file: Path
    posts: list[dict[str, Any]] = field(default_factory=list)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            # Fixed dates, wide: the child process reads the real clock, the tests may not.
            .not_valid_before(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "slack.pem", folder / "slack.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def fake_slack(tmp_path: Path) -> Iterator[FakeSlack]:
    cert_file, key_file = _self_signed(tmp_path)
    posts: list[dict[str, Any]] = []

    class Webhook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            posts.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeSlack(f"https://127.0.0.1:{server.server_address[1]}/services/T0/B0/artifact",
                        cert_file, posts)
    finally:
        server.shutdown()
        server.server_close()


def run_built(function: LocalFunction, sdk: str, endpoint: str, events: list[dict[str, Any]],
              *, extra_environment: dict[str, str], tmp_path: Path, build: Path = BUILD,
              template: Path | None = None,
              answered_operations: tuple[str, ...] = ()) -> dict[str, Any]:
    """Runs `events` through the function as `sam build` left it in `build` (the catalog's
    build by default: nested under its automation's stack)."""
    function_dir = build / (function.full_path if template is None else function.logical_id)
    layer_dir = build / "OpskitLayer" / "python"
    sdk_dir = SDK_ROOT / sdk
    for path in (function_dir, layer_dir, sdk_dir):
        if not path.is_dir():
            _absent(str(path))
    environment = (sam_local_environment(function, REGION) if template is None else
                   sam_local_environment(function, REGION, env_vars={}, template=template))
    environment.update({
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true", "TZ": "UTC",
        # No system time zone database: zoneinfo must find the layer's tzdata, as on Lambda.
        "PYTHONTZPATH": "",
        **extra_environment,
    })
    output = tmp_path / "results.json"
    spec = {"function_dir": str(function_dir), "layer_dir": str(layer_dir),
            "sdk_dir": str(sdk_dir), "handler": function.handler, "events": events,
            "environment": environment, "output": str(output),
            "function_name": function.logical_id, "region": REGION, "account": ACCOUNT,
            "answered_operations": list(answered_operations)}
    completed = subprocess.run(  # noqa: S603 (this interpreter, this repository's script)
        [sys.executable, "-I", "-S", str(HERE / "runtime.py")], input=json.dumps(spec),
        capture_output=True, text=True, timeout=240, check=False)
    assert completed.returncode == 0, completed.stderr[-4000:]
    result: dict[str, Any] = json.loads(output.read_text())
    result["log"] = completed.stdout
    return result


@pytest.mark.parametrize("live", [False, True], ids=["dry-run", "live"])
@pytest.mark.parametrize("sdk", SDKS)
@pytest.mark.parametrize("function", FUNCTIONS, ids=[f.automation for f in FUNCTIONS])
def test_the_built_function_runs_its_sample_event_on_the_runtime_sdk(
        function: LocalFunction, sdk: str, live: bool, *, endpoint: str, tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    """Dry-run reads; live (moto is a throwaway account) also makes the writes, so a parameter the
    runtime's botocore does not know fails in either."""
    sample = SAMPLES[function.automation]
    event = load_event(f"{function.automation}/{sample.event}")
    extra: dict[str, str] = {"DRY_RUN": "true" if not live else "false"}
    slack: FakeSlack | None = None
    if function.automation == "slack_notifier":
        slack = request.getfixturevalue("fake_slack")
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="opskit/slack-webhooks", SecretString=json.dumps({"default": slack.url}))
        extra |= {"WEBHOOK_HOSTS": "127.0.0.1", "WEBHOOK_CA_BUNDLE": str(slack.ca_file)}
    else:
        # Created in the moto server. What a seed returns to wrap the handler in-process
        # (patches, fakes) cannot reach the child, and is not entered.
        seed_event(function.automation, Path(sample.event).stem)
        reports = make_alert_inbox()
        extra |= {"ALERT_TOPIC_ARN": reports.topic_arn}

    ran = run_built(function, sdk, endpoint, [event], extra_environment=extra, tmp_path=tmp_path,
                    answered_operations=sample.answered_operations)

    (outcome,) = ran["results"]
    assert "import_error" not in outcome, outcome.get("traceback")
    assert ran["versions"] == {"boto3": sdk, "botocore": sdk}
    where = ran["modules"]
    assert where["botocore"].startswith(str(SDK_ROOT / sdk))
    assert where["aws_lambda_powertools"].startswith(str(BUILD / "OpskitLayer" / "python"))
    assert where["opskit"].startswith(str(BUILD / "OpskitLayer" / "python"))
    if sample.refusal is not None and not live:
        assert outcome.get("error") == sample.refusal, outcome.get("traceback")
        return
    assert "error" not in outcome, outcome.get("traceback")
    result = outcome["result"]
    if slack is not None:
        assert result == {"batchItemFailures": []}
        assert len(slack.posts) == 1
        return
    if result is None:  # a rotation step answers nothing
        assert sample.refusal is not None
        return
    assert result["dry_run"] is not live
    if not live:
        assert result["counts"]["done"] == 0
    assert result.get("failed_targets", []) == []
    assert result["counts"]["failed"] == sample.failed
    # A report that could not be published is only logged: it must have arrived.
    received = reports.received()
    if not sample.quiet and (result["counts"]["planned"] or result["counts"]["failed"]):
        assert received
    published = json.dumps(received)
    for symptom in ("ParamValidationError", "Unknown parameter", "UnknownServiceError"):
        assert symptom not in published
    errors = [line for line in ran["log"].splitlines() if '"level":"ERROR"' in line]
    assert errors == []


def test_the_built_layer_ships_exactly_the_locked_dependencies() -> None:
    from tests.test_layer_lock import locked_layer

    layer = BUILD / "OpskitLayer" / "python"
    if not layer.is_dir():
        _absent(str(layer.relative_to(ROOT)))
    shipped = {}
    for info in layer.glob("*.dist-info"):
        name, _, shipped_version = info.name.removesuffix(".dist-info").rpartition("-")
        shipped[name.lower().replace("_", "-")] = shipped_version
    assert shipped == locked_layer()


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.automation)
def test_each_function_ships_its_own_automation_only(function: LocalFunction) -> None:
    """`CodeUri` is the automation's folder, built by its Makefile: one package, its own."""
    function_dir = BUILD / function.full_path
    if not function_dir.is_dir():
        _absent(str(function_dir.relative_to(ROOT)))
    assert sorted(p.name for p in function_dir.iterdir()) == [function.automation]
    shipped = sorted(p.name for p in (function_dir / function.automation).iterdir()
                     if p.name != "__pycache__")  # written when the other tests import it
    source = ROOT / "functions" / function.automation
    # Its sources and the compiled methods of its dataclasses (opskit/codecache.py).
    assert shipped == sorted([*(p.name for p in source.glob("*.py")), CODECACHE_FILE])


def _bytecode(source: Path) -> tuple[int, str] | None:
    """The flags and recorded file name of the `.pyc` the running Python 3.13 would load for
    `source`, or None when there is none (it would compile the source at import)."""
    import importlib.util
    import marshal

    cached = Path(importlib.util.cache_from_source(str(source)))
    if not cached.is_file():
        return None
    data = cached.read_bytes()
    if data[:4] != importlib.util.MAGIC_NUMBER:
        return None
    code = marshal.loads(data[16:])  # noqa: S302 (the bytecode this project built)
    return int.from_bytes(data[4:8], "little"), code.co_filename


# PEP 552: bit 0 = hash-based, bit 1 = check the source. Unchecked: the runtime never reads the
# source to validate the bytecode (Lambda's /opt and /var/task are read-only anyway).
UNCHECKED_HASH = 0b01


def test_the_layer_and_every_function_ship_bytecode_as_lambda_loads_it() -> None:
    """Without it, every cold start compiles about 140 modules (bench/cold_start.py measures
    what it saves); with it, tracebacks still name the files where Lambda puts them."""
    layer = BUILD / "OpskitLayer" / "python"
    if not layer.is_dir():
        _absent(str(layer.relative_to(ROOT)))
    roots = [(layer, Path("/opt/python"))] + [
        (BUILD / f.full_path, Path("/var/task")) for f in FUNCTIONS]
    missing, wrong = [], []
    for root, deployed in roots:
        for source in root.rglob("*.py"):
            found = _bytecode(source)
            if found is None:
                missing.append(str(source.relative_to(BUILD)))
            elif found != (UNCHECKED_HASH, str(deployed / source.relative_to(root))):
                wrong.append((str(source.relative_to(BUILD)), found))
    assert missing == []
    assert wrong == []


MISSES_PROBE = ("import sys\n"
                "sys.path[:0] = {path!r}\n"
                "import {automation}.app\n"
                "from opskit import codecache\n"
                "print(len(codecache._CODE), codecache.misses())\n")


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.automation)
def test_no_dataclass_method_is_compiled_at_cold_start(function: LocalFunction) -> None:
    """The layer and the function ship their dataclasses' compiled methods (opskit/codecache.py,
    about 20 ms of each handler's import): importing the handler as Lambda does compiles none."""
    layer = BUILD / "OpskitLayer" / "python"
    sdk = SDK_ROOT / SDKS[-1]
    if not layer.is_dir() or not (BUILD / function.full_path).is_dir() or not sdk.is_dir():
        _absent("the built artifact or the runtime SDK")
    path = [str(BUILD / function.full_path), str(layer), str(sdk)]
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed probe
        [sys.executable, "-I", "-S", "-B", "-c",
         MISSES_PROBE.format(path=path, automation=function.automation)],
        env={"AWS_REGION": REGION, "POWERTOOLS_METRICS_NAMESPACE": "Opskit",
             "PATH": os.environ.get("PATH", "")},
        capture_output=True, text=True, check=True, timeout=120)
    cached, misses = (int(n) for n in done.stdout.split())
    assert cached > 0
    assert misses == 0
