"""The checks themselves: an HTTP(S) smoke check, CloudWatch alarms, a metric against a threshold.

Each returns a CheckResult (passed or not, one line for people, details for the report); none
raises for what it finds, only for what stops it from looking (an AWS error), which the guard
reports as a failed check.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

from deploy_guard.spec import AlarmCheck, Check, HttpCheck, MetricCheck, SpecError, check_url

if TYPE_CHECKING:
    import requests
    from mypy_boto3_cloudwatch import CloudWatchClient
    from requests.adapters import HTTPAdapter

ALARM_BATCH = 100  # DescribeAlarms takes at most 100 names a call
MAX_REDIRECTS = 3
BODY_LIMIT_BYTES = 1024 * 1024  # read no more of a response than this
USER_AGENT = "opskit-deploy-guard/1"
# The checks' CloudWatch client: few attempts, short timeouts, so one call's longest possible
# duration is known (CLOUDWATCH_CALL_SECONDS) and no call starts that could outlive the deadline.
CLOUDWATCH_CONNECT_SECONDS = 2
CLOUDWATCH_READ_SECONDS = 5
CLOUDWATCH_ATTEMPTS = 2
CLOUDWATCH_CALL_SECONDS = CLOUDWATCH_ATTEMPTS * (CLOUDWATCH_CONNECT_SECONDS
                                                 + CLOUDWATCH_READ_SECONDS) + 2
# Never asked, whatever the configuration: link-local (the instance metadata service at
# 169.254.169.254, ECS task metadata at 169.254.170.2), EC2's IPv6 metadata, loopback, and
# addresses that are not hosts.
ALWAYS_REFUSED = tuple(ipaddress.ip_network(n) for n in (
    "169.254.0.0/16", "fd00:ec2::254/128", "127.0.0.0/8", "::1/128", "0.0.0.0/8", "::/128",
    "fe80::/10", "224.0.0.0/4", "ff00::/8", "240.0.0.0/4", "255.255.255.255/32"))
# IPv6 forms that carry an IPv4 address a gateway or the stack reaches: the embedded address
# is judged too (NAT64 well-known and local-use prefixes, IPv4-compatible).
NAT64 = tuple(ipaddress.ip_network(n) for n in ("64:ff9b::/96", "64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Refused unless the configuration allows private networks.
PRIVATE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))


class Clock(Protocol):
    def time(self) -> float: ...  # seconds since the epoch: bake periods span invocations
    def monotonic(self) -> float: ...  # latency
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class Deadline:
    """The invocation's deadline for the checks: the Lambda context's remaining time, read
    each time it is asked (never a duration fixed earlier), less the margin kept to answer and
    report."""

    clock: Clock
    remaining_ms: Callable[[], int]
    margin_seconds: float

    def left(self) -> float:
        """Seconds the checks may still use."""
        return max(0.0, self.remaining_ms() / 1000 - self.margin_seconds)

    def at(self) -> float:
        """The deadline as a point of `clock.monotonic()`."""
        return self.clock.monotonic() + self.left()


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: Check
    passed: bool
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)


class RefusedAddressError(ValueError):
    """The URL's host is, or resolves to, an address the guard never asks."""


def _embedded(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, NAT64, 6to4, Teredo, compatible)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)  # ::ffff:169.254.169.254 is the metadata service too
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if any(ip in network for network in NAT64) or ip in IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _refusal_of(ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
                allow_private: bool) -> str | None:
    if any(ip.version == network.version and ip in network for network in ALWAYS_REFUSED):
        return f"{ip} is a link-local, metadata, loopback or reserved address"
    if not allow_private and any(ip.version == network.version and ip in network
                                 for network in PRIVATE):
        return f"{ip} is a private address (ALLOW_PRIVATE_NETWORKS is off)"
    return None


def refusal(address: str, allow_private: bool) -> str | None:
    """Why `address` may not be asked, or None. An IPv6 address carrying an IPv4 address is
    judged by both."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone is not the address
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates = [*_embedded(ip), ip]
    for candidate in candidates:
        why = _refusal_of(candidate, allow_private)
        if why is not None:
            return why if candidate is ip else f"{ip} embeds {why}"
    return None


def resolve_and_guard(url: str, allow_private: bool) -> list[str]:
    """Every address the URL's host resolves to, each one allowed; RefusedAddressError otherwise.
    The request then goes to one of these addresses (HttpProbe), never to a second resolution."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host.isascii():  # resolved and connected as the same string, or not at all
        raise RefusedAddressError(f"{host} is not ASCII: write the host in its IDNA form "
                                  "(xn--...)")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedAddressError(f"{host} does not resolve ({exc})") from None
    addresses = list(dict.fromkeys(str(entry[4][0]).split("%", 1)[0] for entry in found))
    if not addresses:
        raise RefusedAddressError(f"{host} does not resolve")
    for address in addresses:
        why = refusal(address, allow_private)
        if why is not None:
            raise RefusedAddressError(f"{host} resolves to {why}")
    # IPv4 first: a Lambda function outside a VPC has no IPv6 route.
    return sorted(addresses, key=lambda a: ":" in a)


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return (parts.scheme, (parts.hostname or "").lower(),
            parts.port or (443 if parts.scheme == "https" else 80))


class _Watch:
    """The sockets of one attempt, shut down when its time is up (a server that drips its
    headers or body a byte at a time never outlives the attempt's time limit)."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.expired = False
        self._lock = threading.Lock()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self.sockets.append(sock)
            if not self.expired:
                return
        self._shut(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self.sockets)
        for sock in sockets:
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):  # the plain socket's, even under TLS: wakes a read
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


_adapter_class: Callable[[str, _Watch], HTTPAdapter] | None = None


def _pinned_adapter(address: str, watch: _Watch) -> HTTPAdapter:
    """A requests adapter whose connections go to `address` (the judged one), whatever the
    URL's host: that host is still the Host header, the TLS SNI and the name the certificate
    must match. Built on first use: requests is loaded only by deployments with HTTP checks."""
    global _adapter_class  # noqa: PLW0603 - one class per container
    if _adapter_class is None:
        _adapter_class = _make_adapter_class()
    return _adapter_class(address, watch)


def _make_adapter_class() -> Callable[[str, _Watch], HTTPAdapter]:
    from requests.adapters import HTTPAdapter  # noqa: PLC0415 - see _pinned_adapter
    from urllib3.connection import HTTPConnection, HTTPSConnection  # noqa: PLC0415
    from urllib3.connectionpool import (  # noqa: PLC0415
        HTTPConnectionPool,
        HTTPSConnectionPool,
    )
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError  # noqa: PLC0415

    def connect_to(conn: HTTPConnection, address: str, watch: _Watch) -> socket.socket:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        watch.add(sock)
        try:
            sock.settimeout(conn.timeout)
            sock.connect((address, conn.port))
        except TimeoutError as exc:
            sock.close()
            raise ConnectTimeoutError(conn, f"connecting to {address} timed out") from exc
        except OSError as exc:
            sock.close()
            raise NewConnectionError(conn, f"connecting to {address}: {exc}") from exc
        return sock

    class PinnedAdapter(HTTPAdapter):
        def __init__(self, address: str, watch: _Watch) -> None:
            self.address, self.watch = address, watch
            self.pools: list[HTTPConnectionPool] = []
            super().__init__(pool_connections=1, pool_maxsize=1, max_retries=0)

        def get_connection_with_tls_context(self, request: Any, verify: Any,
                                            proxies: Any = None,
                                            cert: Any = None) -> HTTPConnectionPool:
            scheme, host, port = _origin(request.url)
            address, watch = self.address, self.watch

            class Plain(HTTPConnection):
                def _new_conn(self) -> socket.socket:
                    return connect_to(self, address, watch)

            class Tls(HTTPSConnection):
                def _new_conn(self) -> socket.socket:
                    return connect_to(self, address, watch)

            pool: HTTPConnectionPool
            if scheme == "https":
                pool = HTTPSConnectionPool(address, port, maxsize=1, block=False,
                                           server_hostname=host, assert_hostname=host,
                                           cert_reqs="CERT_REQUIRED")
                pool.ConnectionCls = Tls
            else:
                pool = HTTPConnectionPool(address, port, maxsize=1, block=False)
                pool.ConnectionCls = Plain
            self.pools.append(pool)
            return pool

        def close(self) -> None:
            for pool in self.pools:
                pool.close()
            super().close()

    return PinnedAdapter


def shown_url(url: str) -> str:
    """The URL without its query and fragment, which may carry tokens: what reports show."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def json_at(document: Any, path: str) -> tuple[bool, Any]:
    """The value at a dotted path (list items by index), and whether it is there."""
    value = document
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


@dataclass
class HttpProbe:
    """Runs HTTP checks: each hop's host resolved and judged before it is asked."""

    clock: Clock
    allow_http: bool
    allow_private: bool
    session: Callable[[], requests.Session] | None = None
    _session: requests.Session | None = None

    def _client(self) -> requests.Session:
        if self._session is None:
            if self.session is not None:
                self._session = self.session()
            else:
                import requests  # noqa: PLC0415 - only a deployment with HTTP checks pays for it

                self._session = requests.Session()
                self._session.trust_env = False  # no proxy from the environment
        return self._session

    def run(self, check: HttpCheck, deadline: float) -> CheckResult:
        """Up to 1 + retries attempts; the first that passes passes the check. No attempt
        starts when it could not end before `deadline` (monotonic seconds)."""
        attempts: list[str] = []
        for attempt in range(check.retries + 1):
            if attempt and check.retry_delay_seconds:
                if self.clock.monotonic() + check.retry_delay_seconds >= deadline:
                    break
                self.clock.sleep(check.retry_delay_seconds)
            if self.clock.monotonic() + check.timeout_seconds > deadline:
                attempts.append("out of time: no attempt could finish before the deadline")
                break
            try:
                problem, details = self._attempt(check, deadline)
            except RefusedAddressError as refused:  # never retried: the answer would not change
                return CheckResult(check, False, f"refused: {refused}",
                                   {"url": shown_url(check.url), "refused": str(refused)})
            if problem is None:
                return CheckResult(check, True, f"{check.method} {shown_url(check.url)}: "
                                   f"{details['status']} in {details['latency_ms']} ms",
                                   {**details, "attempts": attempt + 1})
            attempts.append(problem)
        last = attempts[-1] if attempts else "out of time"
        return CheckResult(check, False, f"{check.method} {shown_url(check.url)}: {last}",
                           {"url": shown_url(check.url), "attempts": len(attempts),
                            "problems": attempts[-5:]})

    def _attempt(self, check: HttpCheck, deadline: float) -> tuple[str | None, dict[str, Any]]:
        """One attempt: every hop and the body read within one time limit (the check's
        timeout, never past `deadline`)."""
        started = self.clock.monotonic()
        until = min(started + check.timeout_seconds, deadline)
        watch = _Watch()
        timer = threading.Timer(max(0.0, until - started), watch.expire)
        timer.daemon = True
        timer.start()
        try:
            problem, details = self._hops(check, until, watch)
        finally:
            timer.cancel()
        if problem is None and watch.expired:
            problem = f"timed out after {check.timeout_seconds:g} s"
        return problem, details

    def _hops(self, check: HttpCheck, until: float,
              watch: _Watch) -> tuple[str | None, dict[str, Any]]:
        import requests  # noqa: PLC0415 - loaded by _client already
        import urllib3.exceptions  # noqa: PLC0415 - loaded with requests

        url, method = check.url, check.method
        started = self.clock.monotonic()
        timed_out = f"timed out after {check.timeout_seconds:g} s"
        origin = _origin(check.url)
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                check_url(url, self.allow_http, "redirect")
            except SpecError:
                raise RefusedAddressError(f"redirect to {shown_url(url)}: not an allowed URL "
                                     "(https only unless ALLOW_HTTP)") from None
            address = resolve_and_guard(url, self.allow_private)[0]
            left = until - self.clock.monotonic()
            if left <= 0:
                return timed_out, {}
            scheme, host, port = _origin(url)
            default_port = 443 if scheme == "https" else 80
            # Declared headers (credentials, API keys) go only to the declared origin.
            declared = dict(check.headers) if _origin(url) == origin else {}
            headers = {"User-Agent": USER_AGENT, **declared,
                       "Host": host if port == default_port else f"{host}:{port}",
                       "Accept-Encoding": "identity"}  # the body cap counts wire bytes
            session = self._client()
            adapter = _pinned_adapter(address, watch)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            try:
                response = session.request(method, url, headers=headers, timeout=(left, left),
                                           allow_redirects=False, stream=True)
            except requests.Timeout:
                adapter.close()
                return timed_out, {}
            except requests.RequestException as exc:
                adapter.close()
                if watch.expired:
                    return timed_out, {}
                return f"{type(exc).__name__}: {str(exc)[:200]}", {}
            if check.follow_redirects and response.is_redirect and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                method = "GET" if response.status_code == 303 else method
                response.close()
                adapter.close()
                continue
            break
        else:
            return f"more than {MAX_REDIRECTS} redirects", {}
        try:
            body = _read(response, until, self.clock)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError,
                ValueError) as exc:
            if watch.expired:
                return timed_out, {}
            return f"reading the body: {type(exc).__name__}", {}
        finally:
            response.close()
            adapter.close()
        if body is None:
            return f"{timed_out} (reading the body)", {}
        latency_ms = round((self.clock.monotonic() - started) * 1000)
        details: dict[str, Any] = {"url": shown_url(check.url), "status": response.status_code,
                                   "latency_ms": latency_ms}
        if url != check.url:
            details["final_url"] = shown_url(url)
        return _judge(check, response.status_code, body, latency_ms), details


def _read(response: requests.Response, until: float, clock: Clock) -> bytes | None:
    """The body, at most BODY_LIMIT_BYTES of it, read in chunks as they come; None when the
    attempt's time ran out first."""
    raw = response.raw
    read = getattr(raw, "read1", None) or raw.read
    body = b""
    while len(body) < BODY_LIMIT_BYTES:
        if clock.monotonic() >= until:
            return None
        chunk = read(65536, decode_content=False)
        if not chunk:
            break
        body += chunk
    return body[:BODY_LIMIT_BYTES]


def _judge(check: HttpCheck, status: int, body: bytes, latency_ms: int) -> str | None:
    """What is wrong with the response, or None."""
    if status not in check.expect_status:
        return f"status {status}, expected {' or '.join(map(str, check.expect_status))}"
    text = body.decode("utf-8", "replace")
    if check.body_contains is not None and check.body_contains not in text:
        return f"the body does not contain {check.body_contains!r}"
    if check.json_path is not None:
        try:
            problem = _judge_json(check, text)
        except RecursionError:
            return f"the body is JSON nested too deeply to read (json_path {check.json_path})"
        if problem is not None:
            return problem
    if check.latency_ms is not None and latency_ms > check.latency_ms:
        return f"took {latency_ms} ms, budget {check.latency_ms} ms"
    return None


def _judge_json(check: HttpCheck, text: str) -> str | None:
    assert check.json_path is not None  # noqa: S101 - _judge asks only then
    try:
        document = json.loads(text)
    except ValueError:
        return f"the body is not JSON (json_path {check.json_path})"
    found, value = json_at(document, check.json_path)
    if not found:
        return f"no value at json_path {check.json_path}"
    if check.json_equals_set and value != check.json_equals:
        return (f"{check.json_path} is {json.dumps(value)[:100]}, expected "
                f"{json.dumps(check.json_equals)[:100]}")
    return None


def _out_of_time(check: Check, done: str, details: dict[str, Any]) -> CheckResult:
    return CheckResult(check, False, f"out of time: {done} before the function's deadline "
                       "(not a pass)", {**details, "out_of_time": True})


def run_alarms(cloudwatch: CloudWatchClient, check: AlarmCheck,
               time_left: Callable[[], float] = lambda: float("inf")) -> CheckResult:
    """Every named alarm must exist and be OK (or INSUFFICIENT_DATA when allowed). No call
    starts that could outlive `time_left` (seconds)."""
    states: dict[str, str] = {}
    names = list(check.alarm_names)
    for start in range(0, len(names), ALARM_BATCH):
        batch = names[start:start + ALARM_BATCH]
        token: str | None = None
        while True:
            if time_left() < CLOUDWATCH_CALL_SECONDS:
                return _out_of_time(check, f"{start} of {len(names)} alarm(s) read",
                                    {"alarms": len(names)})
            params: dict[str, Any] = {"AlarmNames": batch,
                                      "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]}
            if token:
                params["NextToken"] = token
            page = cloudwatch.describe_alarms(**params)
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                states[alarm["AlarmName"]] = alarm["StateValue"]
            token = page.get("NextToken")
            if not token:
                break
    allowed = {"OK", "INSUFFICIENT_DATA"} if check.allow_insufficient_data else {"OK"}
    missing = [name for name in names if name not in states]
    bad = {name: state for name, state in states.items() if state not in allowed}
    details: dict[str, Any] = {"alarms": len(names)}
    if missing:
        details["missing"] = missing[:20]
    if bad:
        details["not_ok"] = dict(sorted(bad.items())[:20])
    if missing or bad:
        parts = []
        if bad:
            shown = ", ".join(f"{n}: {s}" for n, s in sorted(bad.items())[:3])
            parts.append(f"{len(bad)} not OK ({shown})")
        if missing:
            parts.append(f"{len(missing)} not found ({', '.join(missing[:3])})")
        return CheckResult(check, False, "; ".join(parts), details)
    return CheckResult(check, True, f"{len(names)} alarm(s) OK", details)


def run_metric(cloudwatch: CloudWatchClient, check: MetricCheck, now: datetime,
               time_left: Callable[[], float] = lambda: float("inf")) -> CheckResult:
    """The metric over the last window: every datapoint within [minimum, maximum]."""
    if time_left() < CLOUDWATCH_CALL_SECONDS:
        return _out_of_time(check, "the metric not read", {"namespace": check.namespace,
                                                           "metric": check.metric_name})
    response = cloudwatch.get_metric_data(
        MetricDataQueries=[{
            "Id": "guard",
            "MetricStat": {
                "Metric": {"Namespace": check.namespace, "MetricName": check.metric_name,
                           "Dimensions": [{"Name": k, "Value": v}
                                          for k, v in check.dimensions.items()]},
                "Period": check.period_seconds, "Stat": check.stat},
            "ReturnData": True}],
        StartTime=now - timedelta(seconds=check.window_seconds), EndTime=now)
    values = [float(v) for result in response.get("MetricDataResults", [])
              for v in result.get("Values", [])]
    details: dict[str, Any] = {"namespace": check.namespace, "metric": check.metric_name,
                               "stat": check.stat, "window_seconds": check.window_seconds,
                               "datapoints": len(values)}
    if check.maximum is not None:
        details["maximum"] = check.maximum
    if check.minimum is not None:
        details["minimum"] = check.minimum
    if not values:
        if check.fail_on_missing_data:
            return CheckResult(check, False, "no data in the window", details)
        return CheckResult(check, True, "no data in the window (allowed)", details)
    worst_high, worst_low = max(values), min(values)
    details.update(highest=worst_high, lowest=worst_low)
    if check.maximum is not None and worst_high > check.maximum:
        return CheckResult(check, False, f"{check.metric_name} {check.stat} reached "
                           f"{worst_high:g}, maximum {check.maximum:g}", details)
    if check.minimum is not None and worst_low < check.minimum:
        return CheckResult(check, False, f"{check.metric_name} {check.stat} fell to "
                           f"{worst_low:g}, minimum {check.minimum:g}", details)
    return CheckResult(check, True, f"{check.metric_name} {check.stat} within bounds "
                       f"({len(values)} datapoints)", details)
