"""The cleanup's tests run against AWS's behaviour where moto differs (tests/resource_cleanup/
fakes.py), with CloudTrail's event history a test can write to. Handler tests use `live`:
the whole test at the sample event's time, live mode, reports to the inbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine

from tests.conftest import AlertInbox
from tests.resource_cleanup.fakes import EventHistory, aws_behaviour
from tests.resource_cleanup.seed import EVENT_TIME


@pytest.fixture(autouse=True)
def event_history() -> Iterator[EventHistory]:
    history = EventHistory()
    with aws_behaviour(history):
        yield history


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> Iterator[None]:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    with time_machine.travel(EVENT_TIME, tick=False):
        yield
