"""Every sample event in events/ goes through its automation's handler (stands in for sam local).

Conventions: `events/<automation>/<name>.json` is handled by `functions/<automation>/app.py`.
An optional `tests/<automation>/seed.py` with `seed(event_name)` creates what the event refers to
and may return a context manager to enter around the call (fakes for HTTP, settings, or
`pytest.raises` for an event the handler must refuse in dry-run, such as a rotation step).
Events named `invalid-*.json` must be refused with a ValueError. Every other event must run:
automations that change things do it in dry-run and change nothing (no action `done`) and fail
no target;
notifiers must deliver every message (no failed SQS record).
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EVENTS, FakeLambdaContext, load_event, seed_event

SAMPLES = sorted(EVENTS.glob("*/*.json"))


def _automation(path: Path) -> str:
    return path.parent.name


def test_every_event_folder_has_a_function() -> None:
    functions = Path(__file__).resolve().parent.parent / "functions"
    for folder in {p.parent for p in SAMPLES}:
        assert (functions / folder.name / "app.py").is_file(), folder


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("path", SAMPLES, ids=[f"{_automation(p)}/{p.name}" for p in SAMPLES])
def test_sample_event_runs_through_its_handler(
    path: Path, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    automation = _automation(path)
    monkeypatch.setenv("DRY_RUN", "true")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", automation)
    around = seed_event(automation, path.stem)
    handler = importlib.import_module(f"{automation}.app").lambda_handler
    event = load_event(f"{automation}/{path.name}")
    with around:
        if path.stem.startswith("invalid-"):
            with pytest.raises(ValueError, match=r"\S+=") as info:
                handler(event, lambda_context)
            assert str(info.value)
            return
        result: dict[str, Any] | None = None
        result = handler(event, lambda_context)
    if result is None:
        return  # the seed's context manager expected (and checked) a refusal, e.g. dry-run
    if "counts" in result:
        assert result["automation"] == automation
        assert result["dry_run"] is True
        assert result["counts"]["done"] == 0
        # A sample event is never meant to fail a target: every account and region it names
        # was read and planned (a failed target is a run that checked nothing there).
        assert result.get("failed_targets", []) == []
    else:
        assert result.get("batchItemFailures") == [] or result.get("delivered")
