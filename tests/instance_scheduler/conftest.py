"""The scheduler's tests: a frozen clock for the whole test, live mode, reports captured."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine

from opskit import instance_store
from tests.instance_scheduler.harness import CLOCK, START


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The test runs at START (a Friday in 2026), from the resources it makes to the reports it
    reads; each scheduler run moves the clock forward (harness.run), never back."""
    with time_machine.travel(START, tick=False) as traveller:
        CLOCK.append(traveller)
        try:
            yield traveller
        finally:
            CLOCK.pop()


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.delenv("TARGET_ACCOUNTS", raising=False)
    # Instance types are cached for a container's life: each test looks its own up.
    monkeypatch.setattr(instance_store, "_KNOWN", {})
