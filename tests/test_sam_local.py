"""`sam local invoke <Function> -e events/<automation>/<event>.json --env-vars events/env.json`.

Without Docker: each function's environment is resolved by SAM CLI's own code from template.yaml
and events/env.json, then its handler runs its sample event with exactly that environment in moto.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from opskit.config import ConfigError
from tests.conftest import REGION, FakeLambdaContext, load_event, seed_event
from tests.lambda_env import SAMPLES, LocalFunction, local_functions, sam_local_environment

FUNCTIONS = local_functions()


def test_every_function_has_a_sample_to_try() -> None:
    assert sorted(f.automation for f in FUNCTIONS) == sorted(SAMPLES)


def test_without_the_file_sam_passes_logical_ids_that_the_functions_refuse() -> None:
    """Why events/env.json exists: SAM resolves !Ref AlertTopic to the text 'AlertTopic'."""
    scheduler = next(f for f in FUNCTIONS if f.automation == "instance_scheduler")
    environment = sam_local_environment(scheduler, REGION, env_vars={})
    assert environment["ALERT_TOPIC_ARN"] == "AlertTopic"
    from opskit.config import CommonConfig

    with pytest.raises(ConfigError, match="ALERT_TOPIC_ARN='AlertTopic' is invalid"):
        CommonConfig.from_env("instance_scheduler", environment)


def test_the_file_keeps_local_runs_in_dry_run() -> None:
    for function in FUNCTIONS:
        assert sam_local_environment(function, REGION)["DRY_RUN"] == "true"


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("function", FUNCTIONS, ids=[f.automation for f in FUNCTIONS])
def test_each_handler_runs_its_sample_event_with_the_sam_local_environment(
        function: LocalFunction, lambda_context: FakeLambdaContext,
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in sam_local_environment(function, REGION).items():
        monkeypatch.setenv(name, value)
    sample = SAMPLES[function.automation]
    around = seed_event(function.automation, Path(sample.event).stem)
    module, _, name = function.handler.rpartition(".")
    handler = getattr(importlib.import_module(module), name)
    event = load_event(f"{function.automation}/{sample.event}")
    if sample.refusal is not None:
        # The seed's wrapper for such an event is that same refusal check: the text is checked here.
        with pytest.raises(Exception) as refused:  # noqa: PT011 (the exact text is checked)
            handler(event, lambda_context)
        assert f"{type(refused.value).__name__}: {refused.value}" == sample.refusal
        return
    with around:
        result: dict[str, Any] = handler(event, lambda_context)
    if function.automation == "slack_notifier":
        assert result == {"batchItemFailures": []}
        return
    assert result["dry_run"] is True
    assert result["counts"]["done"] == 0
    assert result["counts"]["failed"] == sample.failed
    assert result.get("failed_targets", []) == []
