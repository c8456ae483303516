"""Posting to a webhook: timeouts, Retry-After on 429, backoff on 5xx, within the time left.

Nothing here ever puts the webhook URL in a message, a log line or an exception.

The posts go through urllib3, which botocore has already loaded: no HTTP library of its own to
import on a cold start (`requests` alone cost about a fifth of `import boto3`). TLS is verified
against the certificate authorities botocore uses, or `WEBHOOK_CA_BUNDLE` when it is set.
"""

from __future__ import annotations

import email.utils
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import urllib3
from botocore.httpsession import get_cert_path

from opskit.observability import logger

CONNECT_TIMEOUT_SECONDS = 3.05
READ_TIMEOUT_SECONDS = 10.0
# The longest one attempt can take: none starts unless this much time (and the margin) is left.
ATTEMPT_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.5
# Keep this much of the invocation for recording the failure after the last attempt.
SAFETY_MARGIN_SECONDS = 2.0
REPLY_MAX_CHARS = 200
# Answers that say the webhook itself is gone or refused (not this one message): the
# destination is skipped for the rest of the invocation.
DEAD_WEBHOOK_STATUSES = frozenset({401, 403, 404, 410})
_SIGNATURE = re.compile(r"(sig|signature|token)=[^&\s\"']+", re.IGNORECASE)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # looked up at call time, so tests can stand in for the clock


class DeliveryError(RuntimeError):
    """The message could not be delivered; the invocation (or SQS record) must fail.

    `destination_down` says the webhook itself failed (gone, refused, or still failing after
    every retry), so the other messages for it in this invocation are not attempted."""

    def __init__(self, message: str, *, destination_down: bool = False) -> None:
        super().__init__(message)
        self.destination_down = destination_down


class WebhookError(ValueError):
    """A configured webhook URL is unacceptable (the message names the webhook, not its URL)."""


def host_allowed(host: str, patterns: Iterable[str]) -> bool:
    """`hooks.slack.com` matches itself only; `*.logic.azure.com` matches any host under it."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.lower()  # noqa: PLW2901
        if pattern.startswith("*."):
            suffix = pattern[1:]
            if host.endswith(suffix) and len(host) > len(suffix):
                return True
        elif host == pattern:
            return True
    return False


def check_webhook(name: str, url: str, allowed_hosts: Iterable[str]) -> str:
    hosts = sorted(allowed_hosts)
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises
    except ValueError:
        parts = urlsplit("")
    if (parts.scheme != "https" or parts.username or parts.password
            or not host_allowed(parts.hostname or "", hosts)):
        raise WebhookError(f"webhook {name!r} is not an https URL on {', '.join(hosts)}")
    return url


def retry_after_seconds(value: str | None, default: float,
                        now: Callable[[], float] = time.time) -> float:
    """Retry-After as delta-seconds or an HTTP date (RFC 9110, 10.2.3); anything else, a
    negative, infinite or NaN value included, gives `default`."""
    if value is None:
        return default
    text = value.strip()
    try:
        seconds = float(text)
    except (ValueError, OverflowError):
        seconds = None
    if seconds is not None:
        return seconds if math.isfinite(seconds) and seconds >= 0 else default
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return default
    if when.tzinfo is None:
        return default
    return max(when.timestamp() - now(), 0.0)


class HttpResponse(Protocol):
    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def text(self) -> str: ...


class HttpSession(Protocol):
    """What the poster needs: a JSON post with (connect, read) timeouts. A network failure or
    timeout raises an OSError (`requests`' exceptions are OSErrors too)."""

    def post(self, url: str, *, json: Any, timeout: tuple[float, float]) -> HttpResponse: ...


class TransportError(OSError):
    """The request did not get an answer (connection, TLS, timeout); never names the URL."""


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def encode_json(payload: Any) -> bytes:
    """The body as posted: JSON with the standard separators, non-ASCII escaped as \\uXXXX,
    no NaN (the bytes `requests` would send for `json=`)."""
    return json.dumps(payload, allow_nan=False).encode("ascii")


class WebhookSession:
    """JSON posts over one urllib3 pool, kept for the container's life (one TLS handshake per
    webhook host on warm invocations). Redirects are not followed and urllib3 does not retry:
    the poster decides what is retried."""

    def __init__(self, ca_bundle: str | None = None) -> None:
        self._ca_bundle = ca_bundle
        self._pool: urllib3.PoolManager | None = None

    def _pools(self) -> urllib3.PoolManager:
        # Made at the first post, not at import: finding botocore's CA bundle (certifi's, when
        # present) is done once per container, by botocore's first call as well.
        if self._pool is None:
            self._pool = urllib3.PoolManager(
                num_pools=4, maxsize=1, cert_reqs="CERT_REQUIRED",
                ca_certs=(self._ca_bundle or os.environ.get("WEBHOOK_CA_BUNDLE")
                          or get_cert_path(True)))
        return self._pool

    def post(self, url: str, *, json: Any, timeout: tuple[float, float]) -> WebhookResponse:
        body = encode_json(json)
        try:
            answer = self._pools().request(
                "POST", url, body=body, redirect=False, retries=False, preload_content=True,
                headers={"Content-Type": "application/json"},
                timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]))
        except urllib3.exceptions.HTTPError as exc:
            # urllib3's messages contain the host and path: keep only the exception's type.
            raise TransportError(type(exc).__name__) from None
        return WebhookResponse(answer.status, dict(answer.headers.items()), answer.data)


def _reply(response: HttpResponse) -> str:
    """The first characters of the answer, with anything that looks like a signature removed."""
    return _SIGNATURE.sub(r"\1=…", response.text[:REPLY_MAX_CHARS])


@dataclass
class Poster:
    """Posts JSON payloads; `remaining_seconds` bounds every wait by the Lambda's time left."""

    session: HttpSession
    remaining_seconds: Callable[[], float]
    sleep: Callable[[float], None] = _sleep

    def post(self, webhook_name: str, url: str, payload: dict[str, Any]) -> int:
        """Returns the number of attempts; raises DeliveryError when it finally fails."""
        problem = "no attempt"
        for attempt in range(1, MAX_ATTEMPTS + 1):
            wait = BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)
            # An attempt never outlives the invocation: the read timeout shrinks to fit.
            read_timeout = max(1.0, min(READ_TIMEOUT_SECONDS, self.remaining_seconds()
                                        - SAFETY_MARGIN_SECONDS - CONNECT_TIMEOUT_SECONDS))
            try:
                response = self.session.post(
                    url, json=payload, timeout=(CONNECT_TIMEOUT_SECONDS, read_timeout))
            except OSError as exc:
                # The messages of HTTP libraries contain the URL: keep only the exception's type.
                problem = f"{type(exc).__name__} (network error or timeout)"
            else:
                if response.status_code < 300:
                    return attempt
                problem = f"HTTP {response.status_code}: {_reply(response)}"
                if response.status_code == 429:
                    wait = retry_after_seconds(response.headers.get("Retry-After"), wait)
                elif response.status_code < 500:
                    raise DeliveryError(
                        f"webhook {webhook_name!r} refused the message: {problem}",
                        destination_down=response.status_code in DEAD_WEBHOOK_STATUSES)
            logger.warning("delivery attempt failed", extra={
                "webhook": webhook_name, "attempt": attempt, "problem": problem,
                "retry_in_seconds": wait})
            if attempt == MAX_ATTEMPTS:
                break
            if wait + ATTEMPT_SECONDS + SAFETY_MARGIN_SECONDS > self.remaining_seconds():
                problem += "; no time left to retry"
                break
            self.sleep(wait)
        raise DeliveryError(f"webhook {webhook_name!r} failed after {attempt} attempt(s): "
                            f"{problem}", destination_down=True)
