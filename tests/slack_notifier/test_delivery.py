"""Delivery: retries on 429 (Retry-After) and 5xx, timeouts, refusal, and no URL in messages."""

from __future__ import annotations

import pytest
import requests
import responses

from slack_notifier.delivery import (
    MAX_ATTEMPTS,
    DeliveryError,
    Poster,
    WebhookError,
    check_webhook,
    host_allowed,
    retry_after_seconds,
)

URL = "https://hooks.slack.com/services/T0000/B0000/SECRETSECRET"


class Clock:
    def __init__(self, remaining: float = 60.0) -> None:
        self.remaining = remaining
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.remaining -= seconds


def poster(clock: Clock) -> Poster:
    return Poster(requests.Session(), remaining_seconds=lambda: clock.remaining,
                  sleep=clock.sleep)


@responses.activate
def test_success_first_time() -> None:
    responses.post(URL, body="ok")
    clock = Clock()
    assert poster(clock).post("default", URL, {"text": "hi"}) == 1
    assert clock.slept == []
    assert responses.calls[0].request.body == b'{"text": "hi"}'


@responses.activate
def test_429_honours_retry_after() -> None:
    responses.post(URL, status=429, headers={"Retry-After": "7"})
    responses.post(URL, body="ok")
    clock = Clock()
    assert poster(clock).post("default", URL, {"text": "hi"}) == 2
    assert clock.slept == [7.0]


@responses.activate
def test_5xx_backs_off_then_gives_up_and_raises() -> None:
    for _ in range(MAX_ATTEMPTS):
        responses.post(URL, status=503, body="unavailable")
    clock = Clock(remaining=600)
    with pytest.raises(DeliveryError) as info:
        poster(clock).post("default", URL, {"text": "hi"})
    assert clock.slept == [0.5, 1.0, 2.0, 4.0]
    assert len(responses.calls) == MAX_ATTEMPTS
    assert "failed after 5 attempt(s): HTTP 503" in str(info.value)
    assert URL not in str(info.value)


@responses.activate
def test_timeout_is_retried_and_never_leaks_the_url() -> None:
    responses.post(URL, body=requests.exceptions.ConnectTimeout(f"timed out: {URL}"))
    responses.post(URL, body="ok")
    clock = Clock()
    assert poster(clock).post("default", URL, {"text": "hi"}) == 2


@responses.activate
def test_network_error_message_has_no_url() -> None:
    for _ in range(MAX_ATTEMPTS):
        responses.post(URL, body=requests.exceptions.ConnectionError(f"refused: {URL}"))
    with pytest.raises(DeliveryError) as info:
        poster(Clock(remaining=600)).post("default", URL, {"text": "hi"})
    assert "SECRET" not in str(info.value)
    assert "ConnectionError (network error or timeout)" in str(info.value)


@responses.activate
def test_no_retry_without_time_left() -> None:
    responses.post(URL, status=500)
    clock = Clock(remaining=5)
    with pytest.raises(DeliveryError, match="no time left to retry"):
        poster(clock).post("default", URL, {"text": "hi"})
    assert len(responses.calls) == 1
    assert clock.slept == []


@responses.activate
def test_4xx_is_not_retried() -> None:
    responses.post(URL, status=400, body="invalid_blocks")
    with pytest.raises(DeliveryError, match="refused the message: HTTP 400: invalid_blocks"):
        poster(Clock()).post("default", URL, {"text": "hi"})
    assert len(responses.calls) == 1


@pytest.mark.parametrize("url", ["http://hooks.slack.com/services/x",
                                 "https://evil.example.com/services/x", "not a url"])
def test_only_https_slack_webhooks_are_accepted(url: str) -> None:
    with pytest.raises(WebhookError) as info:
        check_webhook("default", url, frozenset({"hooks.slack.com"}))
    assert url not in str(info.value)
    assert str(info.value) == "webhook 'default' is not an https URL on hooks.slack.com"
    assert check_webhook("x", URL, frozenset({"hooks.slack.com"})) == URL


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-5", "soon", "", "1e400", "9" * 5000,
                                   "Wed, 31 Nov 2026 25:61:00 GMT", "Mon, 07 Dec 2026 10:00:00"])
def test_an_unreadable_retry_after_falls_back_to_the_backoff(value: str) -> None:
    """`Retry-After: nan` used to reach time.sleep, which raises on NaN."""
    assert retry_after_seconds(value, 0.5) == 0.5


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert retry_after_seconds("7", 0.5) == 7.0
    assert retry_after_seconds(" 0 ", 0.5) == 0.0
    # RFC 9110 dates, against a fixed clock
    now = 1_796_644_800.0  # Mon, 07 Dec 2026 12:00:00 GMT
    assert retry_after_seconds("Mon, 07 Dec 2026 12:00:30 GMT", 0.5, lambda: now) == 30.0
    assert retry_after_seconds("Mon, 07 Dec 2026 11:00:00 GMT", 0.5, lambda: now) == 0.0


@responses.activate
def test_429_with_nan_retry_after_waits_the_backoff() -> None:
    responses.post(URL, status=429, headers={"Retry-After": "nan"})
    responses.post(URL, body="ok")
    clock = Clock()
    assert poster(clock).post("default", URL, {"text": "hi"}) == 2
    assert clock.slept == [0.5]


@responses.activate
def test_a_retry_after_beyond_the_time_left_is_not_waited_for() -> None:
    responses.post(URL, status=429, headers={"Retry-After": "3600"})
    clock = Clock(remaining=60)
    with pytest.raises(DeliveryError, match="HTTP 429: ; no time left to retry"):
        poster(clock).post("default", URL, {"text": "hi"})
    assert clock.slept == []


@responses.activate
def test_an_attempt_never_outlives_the_invocation() -> None:
    """The read timeout shrinks to the time left (less the margin and the connect time)."""
    responses.post(URL, body="ok")
    poster(Clock(remaining=9.5)).post("default", URL, {"text": "hi"})
    assert responses.calls[0].request.req_kwargs["timeout"] == (3.05, pytest.approx(4.45))
    poster(Clock(remaining=600)).post("default", URL, {"text": "hi"})
    assert responses.calls[1].request.req_kwargs["timeout"] == (3.05, 10.0)


@responses.activate
def test_a_reply_that_echoes_a_signature_is_redacted() -> None:
    responses.post(URL, status=401, body='{"error": "bad sig=abcdef123&sv=1.0"}')
    with pytest.raises(DeliveryError) as info:
        poster(Clock()).post("default", URL, {"text": "hi"})
    assert "abcdef123" not in str(info.value)
    assert info.value.destination_down


@pytest.mark.parametrize(("host", "allowed"), [
    ("hooks.slack.com", True), ("HOOKS.slack.com", True), ("evilhooks.slack.com", False),
    ("prod-27.westeurope.logic.azure.com", True), ("logic.azure.com", False),
    ("evil-logic.azure.com", False), ("logic.azure.com.evil.example", False)])
def test_host_patterns(host: str, allowed: bool) -> None:
    assert host_allowed(host, ("hooks.slack.com", "*.logic.azure.com")) is allowed


@pytest.mark.parametrize("url", ["https://user:pw@hooks.slack.com/services/x",
                                 "https://hooks.slack.com@evil.example/services/x",
                                 "https://hooks.slack.com:notaport/x"])
def test_credentials_and_bad_ports_are_refused(url: str) -> None:
    with pytest.raises(WebhookError):
        check_webhook("default", url, ("hooks.slack.com",))


def test_a_port_on_an_allowed_host_is_accepted() -> None:
    """Workflows URLs name port 443; a relay of one's own may use another."""
    url = "https://prod-27.westeurope.logic.azure.com:443/workflows/x"
    assert check_webhook("teams", url, ("*.logic.azure.com",)) == url
