"""Cold start: a handler imports only what it uses at module load (bench/cold_start.py measures
the cost on the built artifact). Each handler is imported in a fresh interpreter and the modules
it loaded are checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
PROBE = ("import json, sys; import {name}.app; "
         "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
         "('requests', 'aws_lambda_powertools', 'aws_xray_sdk', 'asyncio'))))")
# Loaded at module load only by the handler that always needs it.
ONLY = {
    # The notifier posts through urllib3, which botocore has loaded already; the deployment
    # guard imports `requests` for its first HTTP check only.
    "requests": set(),
    # SQS partial batch responses come from opskit.batch: Powertools' batch utilities and the
    # event classes (and asyncio) they load cost about 30 ms of cold start.
    "aws_lambda_powertools.utilities.batch": set(),
    "aws_lambda_powertools.utilities.data_classes": set(),
    "asyncio": set(),
    # The notifier reads its webhook secret with its own client and cache (notifier.py).
    "aws_lambda_powertools.utilities.parameters": set(),
    "aws_xray_sdk": set(),  # only when tracing is on (tests/opskit/test_tracing.py)
}


def loaded(name: str) -> set[str]:
    env = {key: value for key, value in os.environ.items() if key != "TRACING"}
    env.update({"PYTHONPATH": os.pathsep.join([str(ROOT / "shared_layer"),
                                               str(ROOT / "functions")]),
                "AWS_REGION": "eu-west-1", "POWERTOOLS_METRICS_NAMESPACE": "Opskit"})
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed probe)
        [sys.executable, "-c", PROBE.format(name=name)], env=env, capture_output=True,
        text=True, check=True, timeout=120)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("name", HANDLERS)
def test_a_handler_imports_only_what_it_uses(name: str) -> None:
    modules = loaded(name)
    unexpected = {package for package, users in ONLY.items()
                  if name not in users and any(m == package or m.startswith(f"{package}.")
                                               for m in modules)}
    assert unexpected == set()
    assert "aws_lambda_powertools.logging" in modules  # the kit's logger, as a control
