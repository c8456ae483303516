"""The auto-tagger's tests run live (DRY_RUN=false) in the stack's own account."""

from __future__ import annotations

from typing import Any

import pytest

from auto_tagger import app
from tests.conftest import FakeLambdaContext


@pytest.fixture(autouse=True)
def _live(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.delenv("TARGET_ACCOUNTS", raising=False)


def handle(event: dict[str, Any], context: FakeLambdaContext) -> dict[str, Any]:
    """One record through the handler, as EventBridge delivers it."""
    result: dict[str, Any] = app.lambda_handler(event, context)
    return result
