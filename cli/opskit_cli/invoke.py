"""`opskit invoke`: one event through an automation's handler, as Lambda would run it, on an
in-process moto account (the default) or on a real account."""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from opskit.config import ConfigError
from opskit_cli import catalog
from opskit_cli.accounts import CREDENTIAL_ERRORS, home_region
from opskit_cli.errors import UsageError
from opskit_cli.guard import read_only
from opskit_cli.local_lambda import (
    captured_reports,
    environment,
    lambda_context,
    logs_to,
    new_container,
)
from opskit_cli.plan import read_event

MOTO_ACCOUNT = "123456789012"  # moto's default account
MOTO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_SESSION_TOKEN": "testing", "AWS_SECURITY_TOKEN": "testing",
                    "AWS_PROFILE": None}
_FALSE = frozenset({"false", "no", "0", "off"})


@dataclass
class InvokeRequest:
    automation: str
    event_path: Path
    profile: str | None = None  # None: moto
    live: bool = False
    region: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)


def _asks_changes(params: Mapping[str, str]) -> str | None:
    for name in ("DryRun", "DRY_RUN"):
        if name in params and params[name].strip().lower() in _FALSE:
            return f"{name}={params[name]}"
    return None


@contextlib.contextmanager
def _moto() -> Iterator[None]:
    try:
        moto = importlib.import_module("moto")
    except ImportError:
        raise UsageError("--moto", "moto is not installed: pip install -e '.[dev]', or pass "
                         "--profile to use a real account") from None
    with moto.mock_aws():
        yield


# Automations whose whole effect is a post to a webhook outside AWS (DRY_RUN does not apply).
POSTS_ONLY = frozenset({"slack_notifier"})


def run_invoke(request: InvokeRequest, *, logs: IO[str]) -> tuple[Any, list[dict[str, Any]]]:
    """The handler's answer (or Lambda's error answer) and the reports it built."""
    event = read_event(request.event_path, "event")
    real = request.profile is not None
    asked = _asks_changes(request.params)
    if real and asked and not request.live:
        raise UsageError("--live", f"{asked} against a real account needs --live")
    if real and not request.live and request.automation in POSTS_ONLY:
        raise UsageError("--live", f"{request.automation} has no dry run: what it does is post "
                         "to your webhooks, so on a real account it needs --live (without "
                         "--profile it runs on moto, where nothing is posted)")
    params = dict(request.params)
    if request.live:
        if asked is None and any(name in params for name in ("DryRun", "DRY_RUN")):
            raise UsageError("--live", "--live and --param DryRun=true contradict each other")
        params["DryRun"] = "false"
    elif real:
        params["DryRun"] = "true"  # forced: a real account changes only with --live
    if real:
        region = home_region(request.profile, [request.region] if request.region else None)
    else:
        event_region = event.get("region")
        region = request.region or (event_region if isinstance(event_region, str)
                                    else None) or "us-east-1"
        home_region(None, [region])  # checks the name
    try:
        spec = catalog.function_spec(request.automation, region=region, overrides=params)
    except catalog.CatalogError as exc:
        raise UsageError("--param", str(exc)) from None
    env: dict[str, str | None] = {**spec.environment, "AWS_REGION": region,
                                  "AWS_DEFAULT_REGION": region}
    account = MOTO_ACCOUNT if not real else "000000000000"
    context = lambda_context(request.automation, region=region, account=account,
                             timeout_seconds=spec.timeout_seconds, memory_mb=spec.memory_mb)
    with contextlib.ExitStack() as stack:
        if real:
            stack.enter_context(environment(env, profile=request.profile))
            if not request.live:  # dry run on a real account: no write can leave either
                stack.enter_context(read_only())
        else:
            stack.enter_context(environment({**env, **MOTO_CREDENTIALS}))
            stack.enter_context(_moto())
        handler = catalog.handler_of(request.automation)  # imported as on Lambda: env first
        stack.enter_context(new_container())
        reports = stack.enter_context(captured_reports())
        stack.enter_context(logs_to(logs))
        try:
            answer: Any = handler(event, context)
        except ConfigError as exc:
            raise UsageError("--param", str(exc)) from None
        except Exception as exc:  # what Lambda answers for a function error
            answer = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
    return answer, reports


def invoke_command(request: InvokeRequest, *, stdout: IO[str] | None = None,
                   stderr: IO[str] | None = None) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        answer, reports = run_invoke(request, logs=err)
    except CREDENTIAL_ERRORS as exc:
        whose = f" for profile {request.profile}" if request.profile else ""
        err.write(f"opskit invoke: no usable AWS credentials{whose}: {exc}\n")
        return 1
    for report in reports:
        err.write(f"report: {report['account']}/{report['region']}: {report['title']} "
                  f"{json.dumps(report['counts'])}\n")
    out.write(json.dumps(answer, indent=2, default=str) + "\n")
    failed = isinstance(answer, dict) and "errorType" in answer
    return 1 if failed else 0
