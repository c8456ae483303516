"""Posting to a webhook: timeouts, Retry-After on 429, backoff on 5xx, within the time left.

Nothing here ever puts the webhook URL in a message, a log line or an exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from opskit.observability import logger

CONNECT_TIMEOUT_SECONDS = 3.05
READ_TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.5
# Keep this much of the invocation for recording the failure after the last attempt.
SAFETY_MARGIN_SECONDS = 2.0


def _sleep(seconds: float) -> None:
    time.sleep(seconds)  # looked up at call time, so tests can stand in for the clock


class DeliveryError(RuntimeError):
    """The message could not be delivered; the invocation (or SQS record) must fail."""


class WebhookError(ValueError):
    """A configured webhook URL is unacceptable (the message names the webhook, not its URL)."""


def check_webhook(name: str, url: str, allowed_hosts: frozenset[str]) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or (parts.hostname or "") not in allowed_hosts:
        raise WebhookError(f"webhook {name!r} is not an https URL on "
                           f"{', '.join(sorted(allowed_hosts))}")
    return url


@dataclass
class Poster:
    """Posts JSON payloads; `remaining_seconds` bounds every wait by the Lambda's time left."""

    session: requests.Session
    remaining_seconds: Callable[[], float]
    sleep: Callable[[float], None] = _sleep

    def post(self, webhook_name: str, url: str, payload: dict[str, Any]) -> int:
        """Returns the number of attempts; raises DeliveryError when it finally fails."""
        problem = "no attempt"
        for attempt in range(1, MAX_ATTEMPTS + 1):
            wait = BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)
            try:
                response = self.session.post(
                    url, json=payload, timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS))
            except requests.RequestException as exc:
                # requests' messages contain the URL: keep only the exception's type.
                problem = f"{type(exc).__name__} (network error or timeout)"
            else:
                if response.status_code < 300:
                    return attempt
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code == 429:
                    wait = _retry_after(response, wait)
                elif response.status_code < 500:
                    raise DeliveryError(f"webhook {webhook_name!r} refused the message: {problem}")
            logger.warning("delivery attempt failed", extra={
                "webhook": webhook_name, "attempt": attempt, "problem": problem,
                "retry_in_seconds": wait})
            if attempt == MAX_ATTEMPTS:
                break
            if wait > self.remaining_seconds() - SAFETY_MARGIN_SECONDS - READ_TIMEOUT_SECONDS:
                problem += "; no time left to retry"
                break
            self.sleep(wait)
        raise DeliveryError(f"webhook {webhook_name!r} failed after {attempt} attempt(s): "
                            f"{problem}")


def _retry_after(response: requests.Response, default: float) -> float:
    try:
        return max(float(response.headers.get("Retry-After", default)), 0.0)
    except ValueError:
        return default
