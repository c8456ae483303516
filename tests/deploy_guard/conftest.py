"""The deployment guard's fixtures: a fake clock, DNS, HTTP (responses), and the answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import responses

from deploy_guard import app
from tests.conftest import AlertInbox
from tests.deploy_guard.fakes import APPLICATION, GROUP, Answers, FakeClock, FakeDns, answering

HOOK = "d-4X7Y2Z9QA"
PUBLIC = "203.0.113.10"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(app, "clock", fake)
    return fake


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns({"orders.example.com": [PUBLIC], "api.example.com": [PUBLIC, "2001:db8::10"]})
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture
def web() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def answers(alert_inbox: AlertInbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Answers]:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "deploy_guard")
    with answering(Answers(deployments={HOOK: (APPLICATION, GROUP)})) as found:
        yield found
