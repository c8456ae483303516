"""The notifier's own HTTP transport (urllib3), against a local server: the bytes it sends, what it
returns, and its failures, which never name the URL."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from slack_notifier.delivery import (
    DeliveryError,
    Poster,
    TransportError,
    WebhookSession,
    encode_json,
)

pytestmark = pytest.mark.webhook_transport


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalWebhook:
    url: str
    answers: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    delay_seconds: float = 0.0


@pytest.fixture
def webhook() -> Iterator[LocalWebhook]:
    state = LocalWebhook(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(Received(self.path, dict(self.headers.items()), body))
            if state.delay_seconds:
                time.sleep(state.delay_seconds)
            status, headers, answer = (state.answers.pop(0) if state.answers
                                       else (200, {}, b"ok"))
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/secretpart"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_the_post_carries_the_json_body_as_requests_would_encode_it(
        webhook: LocalWebhook) -> None:
    payload = {"text": "Déploiement terminé 🚀", "blocks": [{"n": 1.5, "ok": True}]}

    answer = WebhookSession().post(webhook.url, json=payload, timeout=(3.0, 5.0))

    (received,) = webhook.received
    assert received.path == "/services/T0/B0/secretpart"
    assert received.headers["Content-Type"] == "application/json"
    assert received.body == encode_json(payload)
    assert json.loads(received.body) == payload
    prepared = requests.Request("POST", webhook.url, json=payload).prepare()
    assert received.body == prepared.body  # the size the Teams card is cut to is this size
    assert (answer.status_code, answer.text) == (200, "ok")


def test_the_answer_gives_its_status_headers_and_text(webhook: LocalWebhook) -> None:
    webhook.answers.append((429, {"Retry-After": "7"}, b"rate limited"))

    answer = WebhookSession().post(webhook.url, json={}, timeout=(3.0, 5.0))

    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"
    assert answer.text == "rate limited"


def test_a_redirect_is_returned_not_followed(webhook: LocalWebhook) -> None:
    webhook.answers.append((302, {"Location": "http://169.254.169.254/latest/"}, b""))

    answer = WebhookSession().post(webhook.url, json={"a": 1}, timeout=(3.0, 5.0))

    assert answer.status_code == 302
    assert len(webhook.received) == 1


def test_a_read_timeout_is_a_transport_error_without_the_url(webhook: LocalWebhook) -> None:
    webhook.delay_seconds = 2.0

    with pytest.raises(TransportError) as raised:
        WebhookSession().post(webhook.url, json={}, timeout=(3.0, 0.2))

    assert "secretpart" not in str(raised.value)
    assert "127.0.0.1" not in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


def test_a_refused_connection_is_a_transport_error_without_the_url() -> None:
    with pytest.raises(TransportError) as raised:
        WebhookSession().post("http://127.0.0.1:9/services/T0/B0/secretpart", json={},
                              timeout=(1.0, 1.0))

    assert "secretpart" not in str(raised.value)


def test_the_poster_retries_a_5xx_over_the_transport_and_keeps_the_connection(
        webhook: LocalWebhook) -> None:
    webhook.answers.append((503, {}, b"busy"))
    waits: list[float] = []

    attempts = Poster(WebhookSession(), lambda: 60.0, waits.append).post(
        "default", webhook.url, {"text": "hi"})

    assert attempts == 2
    assert waits == [0.5]
    assert [r.body for r in webhook.received] == [encode_json({"text": "hi"})] * 2


def test_the_poster_reports_a_dead_transport_by_type_only() -> None:
    waits: list[float] = []

    with pytest.raises(DeliveryError) as raised:
        Poster(WebhookSession(), lambda: 60.0, waits.append).post(
            "default", "http://127.0.0.1:9/services/T0/B0/secretpart", {"text": "hi"})

    assert raised.value.destination_down
    assert "TransportError (network error or timeout)" in str(raised.value)
    assert "secretpart" not in str(raised.value)
    assert len(waits) == 4  # five attempts


def test_a_nan_is_refused_before_anything_is_sent(webhook: LocalWebhook) -> None:
    with pytest.raises(ValueError, match="JSON"):
        WebhookSession().post(webhook.url, json={"x": float("nan")}, timeout=(3.0, 5.0))

    assert webhook.received == []


def test_tls_is_verified_against_botocores_authorities_or_the_configured_bundle(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from botocore.httpsession import get_cert_path

    monkeypatch.delenv("WEBHOOK_CA_BUNDLE", raising=False)
    settings = WebhookSession()._pools().connection_pool_kw
    assert settings["cert_reqs"] == "CERT_REQUIRED"
    assert settings["ca_certs"] == get_cert_path(True)

    bundle = tmp_path / "private-ca.pem"
    monkeypatch.setenv("WEBHOOK_CA_BUNDLE", str(bundle))
    assert WebhookSession()._pools().connection_pool_kw["ca_certs"] == str(bundle)
