"""Attacks on the deployment guard's promises: answers never lost or inverted, deadlines that
hold, smoke checks that reach only the address they judged, continuation tokens that cannot be
forged. Each test states the property it checks."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import responses

from deploy_guard import checks as checks_module
from deploy_guard.checks import HttpProbe, SystemClock, refusal
from deploy_guard.spec import HttpCheck
from opskit.config import ConfigError
from tests.conftest import FakeLambdaContext
from tests.deploy_guard.conftest import PUBLIC
from tests.deploy_guard.fakes import PARAMETER, START, Answers, FakeClock, put_checks
from tests.deploy_guard.test_deploy_guard import (
    URL,
    Context,
    hook_event,
    http,
    invoke,
    job_event,
)

# --- helpers ------------------------------------------------------------------------------


@dataclass
class ClockContext(FakeLambdaContext):
    """A Lambda context whose remaining time follows the fake clock (as the real one does)."""

    fake: FakeClock | None = None
    total_ms: int = 120_000

    def __post_init__(self) -> None:
        assert self.fake is not None
        self.started = self.fake.monotonic()

    def get_remaining_time_in_millis(self) -> int:
        assert self.fake is not None
        return int(self.total_ms - (self.fake.monotonic() - self.started) * 1000)


class _Local:
    """A local HTTP server counting the requests it got (and optionally dripping its body)."""

    def __init__(self, drip_seconds: float = 0.0, body: bytes = b"ok") -> None:
        hits: list[dict[str, str]] = []
        self.hits = hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for byte in body:
                    if drip_seconds:
                        time.sleep(drip_seconds)
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def local() -> Iterator[_Local]:
    server = _Local()
    yield server
    server.close()


_real_getaddrinfo = socket.getaddrinfo


def _entries(addresses: list[str], port: Any) -> list[Any]:
    return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
             (a, port)) for a in addresses]


def _check(url: str, **fields: Any) -> HttpCheck:
    return HttpCheck(**{"name": "health", "url": url, "retries": 0, "timeout_seconds": 2.0,
                        **fields})


# --- (1) answers lost or wrong ------------------------------------------------------------


class ThrottledOnce(Answers):
    """The first hook answer is throttled (after botocore's own retries), later ones go through."""

    throttled = False

    def __call__(self, model: Any = None, params: Any = None, **kw: Any) -> Any:
        if (model is not None and model.name == "PutLifecycleEventHookExecutionStatus"
                and not self.throttled):
            self.throttled = True
            body = params.get("body") if isinstance(params, dict) else None
            self.calls.append(("Throttled", json.loads(body) if body else {}))
            return self._error("ThrottlingException")
        return super().__call__(model, params, **kw)


@pytest.mark.usefixtures("clock", "dns")
def test_a_throttled_succeeded_answer_is_not_turned_into_failed(
        answers: Answers, web: responses.RequestsMock) -> None:
    """Every check passed and the Succeeded answer is throttled once: the answer is sent again as
    Succeeded, never turned into Failed (which would roll back a good deployment)."""
    flaky = ThrottledOnce(deployments=answers.deployments)
    from tests.deploy_guard import fakes
    with fakes.answering(flaky):
        put_checks({"checks": [http()]})
        web.add(responses.GET, URL, status=200)
        result = invoke(hook_event())
    assert result["verdict"] == "passed"
    assert flaky.hook_statuses == ["Succeeded"], (
        f"passed, but answered {flaky.hook_statuses} after one throttled answer")


@pytest.mark.usefixtures("clock", "dns")
def test_a_configuration_error_still_answers_the_hook(
        answers: Answers, monkeypatch: pytest.MonkeyPatch) -> None:
    """A configuration the function refuses (a bad variable) still answers the hook Failed before
    the invocation fails: CodeDeploy never waits for its one-hour timeout."""
    monkeypatch.setenv("INVOCATION_WAIT_SECONDS", "soon")
    put_checks({"checks": [http()]})
    # What matters is what was answered; the configuration error is raised afterwards.
    with pytest.raises(ConfigError, match="INVOCATION_WAIT_SECONDS"):
        invoke(hook_event())
    assert answers.hook_statuses == ["Failed"], "config error: the hook was never answered"


class SlowGetDeployment(Answers):
    """GetDeployment slow (throttled, adaptive retries): advances the fake clock."""

    def __init__(self, fake: FakeClock, seconds: float, **kw: Any) -> None:
        super().__init__(**kw)
        self.fake, self.seconds = fake, seconds
        self.at: list[tuple[str, float]] = []

    def __call__(self, model: Any = None, params: Any = None, **kw: Any) -> Any:
        if model is not None and model.name in self.OPERATIONS:
            self.at.append((model.name, self.fake.monotonic()))
            if model.name == "GetDeployment":
                self.fake.advance(self.seconds)
        return super().__call__(model, params, **kw)


@pytest.mark.usefixtures("dns")
def test_time_spent_reading_the_declaration_counts_against_the_budget(
        answers: Answers, web: responses.RequestsMock, clock: FakeClock) -> None:
    """The deadline is absolute: time spent before the checks (GetDeployment, GetParameter) counts,
    so a bake that no longer fits is refused and the hook is answered within the function's time."""
    slow = SlowGetDeployment(clock, 70, deployments=answers.deployments)
    from tests.deploy_guard import fakes
    context = ClockContext(fake=clock, total_ms=120_000)
    put_checks({"bake_seconds": 60, "interval_seconds": 30, "checks": [http()]})
    web.add(responses.GET, URL, status=200)
    with fakes.answering(slow):
        result = invoke(hook_event(), context)
    answered = [(name, at - context.started) for name, at in slow.at
                if name == "PutLifecycleEventHookExecutionStatus"]
    assert answered, "never answered"
    assert answered[0][1] <= 120 - 30, f"answered at {answered[0][1]} s of a 120 s function"
    # 50 s are left after reading, less the answer's margin: the 60 s bake cannot finish, so it
    # is refused (Failed), never cut short and passed.
    assert slow.hook_statuses == ["Failed"]
    assert "bake_seconds=60 is invalid" in result["error"]


class SlowDescribeAlarms(SlowGetDeployment):
    """Each DescribeAlarms takes as long as a bounded call can (throttled, retried): the clock
    advances, then moto answers."""

    def __call__(self, model: Any = None, params: Any = None, **kw: Any) -> Any:
        if model is not None and model.name == "DescribeAlarms":
            self.at.append((model.name, self.fake.monotonic()))
            self.fake.advance(self.seconds)
            return None
        return super().__call__(model, params, **kw)


@pytest.mark.usefixtures("dns")
def test_cloudwatch_checks_respect_the_deadline(answers: Answers, clock: FakeClock) -> None:
    """Alarm and metric checks look at the deadline before each call: with 500 alarms (5 calls,
    each taking the longest a bounded call can), calls stop when the next one could outlive the
    deadline, and the hook is answered in time."""
    from deploy_guard.checks import CLOUDWATCH_CALL_SECONDS
    names = [f"a-{i:03}" for i in range(500)]
    put_checks({"checks": [{"type": "alarms", "name": "a", "alarm_names": names}]})
    context = ClockContext(fake=clock, total_ms=90_000)
    slow = SlowDescribeAlarms(clock, CLOUDWATCH_CALL_SECONDS, deployments=answers.deployments)
    from tests.deploy_guard import fakes
    with fakes.answering(slow):
        result = invoke(hook_event(), context)
    calls = [at for name, at in slow.at if name == "DescribeAlarms"]
    answered = [at - context.started for name, at in slow.at
                if name == "PutLifecycleEventHookExecutionStatus"]
    assert 0 < len(calls) < 5
    assert answered, "never answered"
    assert answered[0] <= 90 - 30, f"answered at {answered} s of a 90 s function"
    assert slow.hook_statuses == ["Failed"]
    assert result["verdict"] == "failed"


def test_a_slow_drip_body_cannot_outlive_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """One time limit covers a whole attempt: a server dripping a byte every 0.25 s cannot keep it
    alive past its timeout or the deadline."""
    server = _Local(drip_seconds=0.25, body=b"x" * 16)
    try:
        # The request goes to the judged address: here the local server's.
        monkeypatch.setattr(checks_module, "resolve_and_guard", lambda *_: ["127.0.0.1"])
        probe = HttpProbe(SystemClock(), allow_http=True, allow_private=False)
        check = _check(f"http://slow.example.com:{server.port}/", timeout_seconds=1.0)
        monkeypatch.setattr(socket, "getaddrinfo",
                            lambda h, p, *a, **k: _entries(["127.0.0.1"], p))
        start = time.monotonic()
        probe.run(check, deadline=start + 2.0)
        took = time.monotonic() - start
    finally:
        server.close()
    assert took < 2.5, f"an attempt with timeout 1 s and deadline 2 s took {took:.1f} s"


@pytest.mark.usefixtures("clock", "dns")
def test_a_bake_cut_short_is_not_a_pass(answers: Answers, web: responses.RequestsMock) -> None:
    """A bake longer than the function's time is refused (answered Failed live), never cut short
    and passed."""
    put_checks({"bake_seconds": 3600, "interval_seconds": 60, "checks": [http()]})
    web.add(responses.GET, URL, status=200)
    result = invoke(hook_event(), Context(remaining_ms=300_000))
    assert answers.hook_statuses == ["Failed"], (
        f"a 3600 s bake watched {result.get('rounds')} rounds, answered {answers.hook_statuses}")


# --- (3) SSRF -----------------------------------------------------------------------------


def test_dns_rebinding_between_the_check_and_the_connection(
        local: _Local, monkeypatch: pytest.MonkeyPatch) -> None:
    """The request goes to the address that was judged: a name whose answer changes after the
    check (DNS rebinding) cannot reach another address."""
    asked: list[str] = []

    def rebinding(host: str, port: Any, *_: Any, **__: Any) -> list[Any]:
        asked.append(host)
        return _entries([PUBLIC] if len(asked) == 1 else ["127.0.0.1"], port)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    probe = HttpProbe(SystemClock(), allow_http=True, allow_private=False)
    result = probe.run(_check(f"http://rebind.example.com:{local.port}/"),
                       deadline=time.monotonic() + 10)
    assert local.hits == [], f"loopback reached after rebinding ({result.summary})"


def test_idna_host_judged_is_not_the_host_connected(
        local: _Local, monkeypatch: pytest.MonkeyPatch) -> None:
    """A non-ASCII host is refused (the xn-- form is asked for): Python's IDNA 2003 codec and
    urllib3's IDNA 2008 would name two different hosts, only one of them judged."""
    zone = {"fass.example": [PUBLIC], "xn--fa-hia.example": ["127.0.0.1"]}

    def resolver(host: str, port: Any, *_: Any, **__: Any) -> list[Any]:
        wire = host if host.isascii() else host.encode("idna").decode()  # as socketmodule.c
        if wire not in zone:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return _entries(zone[wire], port)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    probe = HttpProbe(SystemClock(), allow_http=True, allow_private=False)
    result = probe.run(_check(f"http://faß.example:{local.port}/"),
                       deadline=time.monotonic() + 10)
    assert local.hits == [], f"loopback reached through an IDNA mismatch ({result.summary})"


@pytest.mark.parametrize("address", ["64:ff9b::a00:1", "64:ff9b::c0a8:105"])
def test_nat64_forms_of_private_addresses_are_private(address: str) -> None:
    """A NAT64 address (64:ff9b::/96, which VPC DNS64 and a NAT gateway turn into its embedded
    IPv4) is judged by that IPv4: private, refused with ALLOW_PRIVATE_NETWORKS off."""
    assert refusal(address, allow_private=False) is not None


@pytest.mark.usefixtures("clock", "dns")
def test_declared_headers_do_not_follow_a_redirect_to_another_host(
        answers: Answers, web: responses.RequestsMock) -> None:
    """Declared headers (Authorization, API keys) go only to the check URL's own scheme, host and
    port, never to a redirect's other host."""
    web.add(responses.GET, URL, status=302,
            headers={"Location": "https://api.example.com/elsewhere"})
    web.add(responses.GET, "https://api.example.com/elsewhere", status=200)
    put_checks({"checks": [http(headers={"Authorization": "Bearer s3cr3t"})]})
    invoke(hook_event())
    assert len(web.calls) == 2
    assert "Authorization" not in web.calls[1].request.headers, "credential sent to another host"


# --- (4) continuation token ---------------------------------------------------------------


@pytest.mark.usefixtures("dns")
@pytest.mark.parametrize("started_ago", [600, 3000])
def test_a_forged_or_foreign_token_cannot_skip_the_bake(
        answers: Answers, web: responses.RequestsMock, clock: FakeClock,
        started_ago: int) -> None:
    """A continuation token is bound to its job and checked with GetJobDetails: one forged, or
    copied from another job, cannot skip the bake."""
    put_checks({"bake_seconds": 600, "interval_seconds": 30, "checks": [http()]})
    web.add(responses.GET, URL, status=200)
    forged = json.dumps({"v": 1, "started": int(START) - started_ago, "rounds": 1})
    result = invoke(job_event(PARAMETER, forged))
    assert result["verdict"] != "passed", (
        f"a forged token skipped the bake after {len(web.calls)} request(s)")


# --- after the fixes: the request goes to the judged address, named as the URL names it ----


def test_the_judged_address_is_connected_with_the_urls_host_name(
        local: _Local, monkeypatch: pytest.MonkeyPatch) -> None:
    judged: list[str] = []

    def judge(url: str, _allow_private: bool) -> list[str]:
        judged.append(url)
        return ["127.0.0.1"]

    monkeypatch.setattr(checks_module, "resolve_and_guard", judge)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *_a, **_k: pytest.fail("resolved again"))
    probe = HttpProbe(SystemClock(), allow_http=True, allow_private=False)
    result = probe.run(_check(f"http://orders.example.com:{local.port}/",
                              headers={"X-Api-Key": "k"}),
                       deadline=time.monotonic() + 10)
    assert result.passed, result.summary
    (hit,) = local.hits
    assert hit["Host"] == f"orders.example.com:{local.port}"
    assert hit["Accept-Encoding"] == "identity"
    assert hit["X-Api-Key"] == "k"


@pytest.mark.parametrize("address", ["2002:a9fe:a9fe::1", "2002:0a00:0001::1", "::a9fe:a9fe",
                                     "::7f00:1", "64:ff9b::a9fe:a9fe"])
def test_6to4_and_ipv4_compatible_forms_are_judged_by_their_ipv4(address: str) -> None:
    assert refusal(address, allow_private=False) is not None


def test_a_pinned_https_connection_fails_cleanly_when_nothing_listens() -> None:
    import requests

    from deploy_guard.checks import _pinned_adapter, _Watch

    session = requests.Session()
    session.trust_env = False
    session.mount("https://", _pinned_adapter("127.0.0.1", _Watch()))
    with pytest.raises(requests.ConnectionError):
        session.get("https://orders.example.com:9/", timeout=(1, 1))


def test_deeply_nested_json_is_a_check_failure() -> None:
    from deploy_guard.checks import _judge

    body = b"[" * 100_000 + b"]" * 100_000
    problem = _judge(_check("https://x.example.com/", json_path="a"), 200, body, 1)
    assert problem is not None
    assert "JSON" in problem
