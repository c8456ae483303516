"""The checks a deployment must pass, as declared in JSON (docs/deploy_guard.md), read strictly."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

MAX_CHECKS = 20
MAX_ALARMS = 500  # DescribeAlarms takes 100 names a call: at most 5 calls a round
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
STATISTICS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")
_PERCENTILE = re.compile(r"^p\d{1,2}(\.\d{1,2})?$")
_JSON_PATH = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_NAME = re.compile(r"^[A-Za-z0-9 _.:/-]{1,64}$")
_HEADER = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_ALARM = re.compile(r"^[^\x00-\x1f]{1,255}$")
_PARAMETER_NAME = re.compile(r"^/[A-Za-z0-9_./-]{1,1010}$")


class SpecError(ValueError):
    """The declaration is malformed; the message names the field, its value and what was
    expected."""

    def __init__(self, path: str, value: object, expected: str) -> None:
        self.path = path
        shown = value if not isinstance(value, str) or len(value) <= 120 else value[:117] + "..."
        super().__init__(f"{path}={shown!r} is invalid: expected {expected}")


@dataclass(frozen=True, slots=True)
class HttpCheck:
    name: str
    url: str
    method: str = "GET"
    expect_status: tuple[int, ...] = (200,)
    body_contains: str | None = None
    json_path: str | None = None
    # With json_path: the value expected there (any JSON value); without it, the path must exist.
    json_equals: Any = None
    json_equals_set: bool = False
    latency_ms: int | None = None
    retries: int = 2
    retry_delay_seconds: float = 2.0
    timeout_seconds: float = 5.0
    follow_redirects: bool = True
    # Sent, never reported: keep secrets out of them anyway (the declaration is readable).
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    kind: str = "http"


@dataclass(frozen=True, slots=True)
class AlarmCheck:
    name: str
    alarm_names: tuple[str, ...]
    allow_insufficient_data: bool = False
    kind: str = "alarms"


@dataclass(frozen=True, slots=True)
class MetricCheck:
    name: str
    namespace: str
    metric_name: str
    dimensions: Mapping[str, str]
    stat: str = "Sum"
    period_seconds: int = 60
    window_seconds: int = 300
    maximum: float | None = None  # fails when a datapoint is above
    minimum: float | None = None  # fails when a datapoint is below
    fail_on_missing_data: bool = False
    kind: str = "metric"


Check = HttpCheck | AlarmCheck | MetricCheck


@dataclass(frozen=True, slots=True)
class Spec:
    checks: tuple[Check, ...]
    bake_seconds: int = 0  # watch this long after the first round (0: one round)
    interval_seconds: int = 30  # between rounds while baking


class _Fields:
    """One JSON object of the declaration, read field by field; unknown fields are refused."""

    def __init__(self, value: object, path: str, known: set[str]) -> None:
        if not isinstance(value, dict):
            raise SpecError(path, value, "a JSON object")
        unknown = sorted(set(value) - known)
        if unknown:
            raise SpecError(f"{path}.{unknown[0]}", value[unknown[0]],
                            f"one of the fields {', '.join(sorted(known))}")
        self.value, self.path = value, path

    def has(self, name: str) -> bool:
        return name in self.value

    def text(self, name: str, default: str | None = None, *,
             pattern: re.Pattern[str] | None = None, expected: str = "a string") -> str:
        value = self.value.get(name, default)
        if not isinstance(value, str) or not value or (
                pattern is not None and not pattern.fullmatch(value)):
            raise SpecError(f"{self.path}.{name}", value, expected)
        return value

    def number(self, name: str, default: float | None, low: float, high: float) -> float | None:
        value = self.value.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                low <= value <= high):
            raise SpecError(f"{self.path}.{name}", value, f"a number in [{low:g}, {high:g}]")
        return float(value)

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.value.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SpecError(f"{self.path}.{name}", value, f"an integer in [{low}, {high}]")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.value.get(name, default)
        if not isinstance(value, bool):
            raise SpecError(f"{self.path}.{name}", value, "true or false")
        return value


def parse_spec(text: str, *, allow_http: bool, max_bake_seconds: int,
               source: str = "checks") -> Spec:
    """The declaration in `text` (JSON), from `source` (named in errors)."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(source, text, f"JSON ({exc.msg} at char {exc.pos})") from None
    top = _Fields(raw, source, {"version", "checks", "bake_seconds", "interval_seconds"})
    top.integer("version", 1, 1, 1)
    checks = raw.get("checks")
    if not isinstance(checks, list) or not 1 <= len(checks) <= MAX_CHECKS:
        raise SpecError(f"{source}.checks", checks, f"a list of 1 to {MAX_CHECKS} checks")
    parsed = tuple(_check(item, f"{source}.checks[{i}]", allow_http)
                   for i, item in enumerate(checks))
    names = [check.name for check in parsed]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise SpecError(f"{source}.checks[{i}].name", name, "a name no other check has")
    return Spec(parsed, bake_seconds=top.integer("bake_seconds", 0, 0, max_bake_seconds),
                interval_seconds=top.integer("interval_seconds", 30, 5, 600))


def _check(item: object, path: str, allow_http: bool) -> Check:
    if not isinstance(item, dict):
        raise SpecError(path, item, "a JSON object")
    kind = item.get("type")
    if kind == "http":
        return _http(item, path, allow_http)
    if kind == "alarms":
        return _alarms(item, path)
    if kind == "metric":
        return _metric(item, path)
    raise SpecError(f"{path}.type", kind, "http, alarms or metric")


def _http(item: dict[str, Any], path: str, allow_http: bool) -> HttpCheck:
    fields = _Fields(item, path, {"type", "name", "url", "method", "expect_status",
                                  "body_contains", "json_path", "json_equals", "latency_ms",
                                  "retries", "retry_delay_seconds", "timeout_seconds",
                                  "follow_redirects", "headers"})
    url = fields.text("url", expected="an https:// URL")
    check_url(url, allow_http, f"{path}.url")
    statuses = item.get("expect_status", [200])
    if isinstance(statuses, int) and not isinstance(statuses, bool):
        statuses = [statuses]
    if not isinstance(statuses, list) or not statuses or any(
            isinstance(s, bool) or not isinstance(s, int) or not 100 <= s <= 599
            for s in statuses):
        raise SpecError(f"{path}.expect_status", statuses, "an HTTP status or a list of them")
    headers = item.get("headers", {})
    if not isinstance(headers, dict) or any(
            not isinstance(k, str) or not _HEADER.fullmatch(k) or not isinstance(v, str)
            or "\n" in v or "\r" in v for k, v in headers.items()):
        raise SpecError(f"{path}.headers", "<hidden>", "an object of header names to strings")
    json_path = fields.text("json_path", pattern=_JSON_PATH,
                            expected="a dotted path such as status or checks.0.state"
                            ) if fields.has("json_path") else None
    if fields.has("json_equals") and json_path is None:
        raise SpecError(f"{path}.json_equals", item["json_equals"], "json_path beside it")
    body = fields.text("body_contains") if fields.has("body_contains") else None
    latency = fields.integer("latency_ms", 0, 1, 60_000) if fields.has("latency_ms") else None
    return HttpCheck(
        name=fields.text("name", url[:64] if len(url) <= 64 else None, pattern=_NAME,
                         expected="a name of 1-64 letters, digits, spaces or _.:/-"),
        url=url,
        method=fields.text("method", "GET", pattern=re.compile("|".join(METHODS)),
                           expected=" or ".join(METHODS)),
        expect_status=tuple(statuses), body_contains=body, json_path=json_path,
        json_equals=item.get("json_equals"), json_equals_set=fields.has("json_equals"),
        latency_ms=latency, retries=fields.integer("retries", 2, 0, 10),
        retry_delay_seconds=float(fields.number("retry_delay_seconds", 2, 0, 60) or 0),
        timeout_seconds=float(fields.number("timeout_seconds", 5, 0.1, 30) or 5),
        follow_redirects=fields.flag("follow_redirects", True), headers=dict(headers))


def check_url(url: str, allow_http: bool, path: str) -> None:
    """Only https (http when allowed), a host, no credentials in the URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SpecError(path, url, "a URL") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise SpecError(path, url, "an https:// URL" if not allow_http
                        else "an https:// or http:// URL")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise SpecError(path, url, "a URL with a host and no user or password")
    if port == 0:
        raise SpecError(path, url, "a URL with a valid port")


def _alarms(item: dict[str, Any], path: str) -> AlarmCheck:
    fields = _Fields(item, path, {"type", "name", "alarm_names", "allow_insufficient_data"})
    names = item.get("alarm_names")
    if not isinstance(names, list) or not 1 <= len(names) <= MAX_ALARMS or any(
            not isinstance(n, str) or not _ALARM.fullmatch(n) for n in names):
        raise SpecError(f"{path}.alarm_names", names,
                        f"a list of 1 to {MAX_ALARMS} alarm names")
    return AlarmCheck(name=fields.text("name", "alarms", pattern=_NAME,
                                       expected="a name of 1-64 letters, digits, spaces or _.:/-"),
                      alarm_names=tuple(dict.fromkeys(names)),
                      allow_insufficient_data=fields.flag("allow_insufficient_data", False))


def _metric(item: dict[str, Any], path: str) -> MetricCheck:
    fields = _Fields(item, path, {"type", "name", "namespace", "metric_name", "dimensions",
                                  "stat", "period_seconds", "window_seconds", "maximum",
                                  "minimum", "fail_on_missing_data"})
    dimensions = item.get("dimensions", {})
    if not isinstance(dimensions, dict) or len(dimensions) > 30 or any(
            not isinstance(k, str) or not k or not isinstance(v, str) or not v
            for k, v in dimensions.items()):
        raise SpecError(f"{path}.dimensions", dimensions, "an object of names to values")
    stat = fields.text("stat", "Sum")
    if stat not in STATISTICS and not _PERCENTILE.fullmatch(stat):
        raise SpecError(f"{path}.stat", stat, f"one of {', '.join(STATISTICS)} or pNN")
    period = fields.integer("period_seconds", 60, 1, 86_400)
    if period not in (1, 5, 10, 30) and period % 60:
        raise SpecError(f"{path}.period_seconds", period, "1, 5, 10, 30 or a multiple of 60")
    window = fields.integer("window_seconds", 300, period, 86_400)
    maximum = fields.number("maximum", None, -1e15, 1e15)
    minimum = fields.number("minimum", None, -1e15, 1e15)
    if maximum is None and minimum is None:
        raise SpecError(f"{path}.maximum", None, "maximum or minimum (or both)")
    return MetricCheck(
        name=fields.text("name", pattern=_NAME,
                         expected="a name of 1-64 letters, digits, spaces or _.:/-"),
        namespace=fields.text("namespace"), metric_name=fields.text("metric_name"),
        dimensions=dict(dimensions), stat=stat, period_seconds=period, window_seconds=window,
        maximum=maximum, minimum=minimum,
        fail_on_missing_data=fields.flag("fail_on_missing_data", False))


class SsmClient(Protocol):
    def get_parameter(self, **kwargs: Any) -> Any: ...


class DeploymentReader(Protocol):
    def get_deployment(self, **kwargs: Any) -> Any: ...


def hook_parameter(codedeploy: DeploymentReader, deployment_id: str, prefix: str) -> str:
    """The SSM parameter holding a hook's checks: <prefix><application>/<deployment group>."""
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    return f"{prefix}{info['applicationName']}/{info['deploymentGroupName']}"


def read_declaration(ssm: SsmClient, name: str, prefix: str) -> str:
    """The declaration in the SSM parameter `name`, which must be under `prefix` (the role may
    read nothing else)."""
    if not name.startswith(prefix) or not _PARAMETER_NAME.fullmatch(name):
        raise SpecError("parameter", name, f"an SSM parameter name under {prefix}")
    try:
        value: str = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ParameterNotFound":
            raise SpecError("parameter", name, "an existing SSM parameter holding the checks "
                            "(docs/deploy_guard.md)") from None
        raise
    return value


def job_declaration(ssm: SsmClient, user_parameters: str, prefix: str) -> tuple[str, str]:
    """A pipeline action's checks and where they came from: its UserParameters when they are
    a JSON object, else the SSM parameter they name."""
    if user_parameters.startswith("{"):
        return user_parameters, "UserParameters"
    return read_declaration(ssm, user_parameters, prefix), user_parameters
