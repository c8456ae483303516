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
