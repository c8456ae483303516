"""The running-cost model (bench/cost_model.py): its price table, its arithmetic, what it reads
from the templates and the code, and the docs that quote it."""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bench import cost_model
from bench.cost_model import ASSUMPTIONS, PRICES, Assumptions, costs_at_defaults
from tests.conftest import FakeLambdaContext, load_event

FACTS = cost_model.read_templates()
COSTS = costs_at_defaults()


def test_every_price_is_dated_and_cites_the_aws_pricing_page() -> None:
    assert date.fromisoformat(cost_model.PRICES_CHECKED) <= date(2100, 1, 1)
    assert cost_model.PRICES_REGION == "us-east-1"
    for name, price in PRICES.items():
        assert re.fullmatch(r"https://aws\.amazon\.com/[\w-]+/pricing/", price.source), name
        assert price.usd >= 0, name
        assert price.unit, name


def test_the_itemisation_sums_to_the_totals() -> None:
    catalog = COSTS.catalog
    assert catalog.total == pytest.approx(sum(item.usd for item in catalog.items))
    assert sum(catalog.by_service().values()) == pytest.approx(catalog.total)
    shared = sum(item.usd for item in catalog.items if item.what.startswith(
        (f"{FACTS.shared_alarms} shared", f"{FACTS.shared_keys} shared")))
    assert catalog.total == pytest.approx(
        shared + sum(COSTS.automations[name].total for name in COSTS.enabled))
    for item in catalog.items:
        assert item.usd >= 0, item
        assert item.quantity >= 0, item


def test_automations_are_found_in_the_root_template_with_their_defaults() -> None:
    names = {facts.name for facts in FACTS.automations}
    assert names == {path.parent.name for path in Path("functions").glob("*/template.yaml")}
    enabled = {facts.name for facts in FACTS.automations if facts.enabled_by_default}
    assert "deploy_guard" not in enabled  # EnableDeployGuard defaults to false
    assert "instance_scheduler" in enabled
    scheduler = next(f for f in FACTS.automations if f.name == "instance_scheduler")
    assert scheduler.composed.functions[0].schedules == ("rate(5 minutes)",)
    assert scheduler.composed.functions[0].scheduled_runs == pytest.approx(8760)


def test_schedules_become_runs_a_month() -> None:
    assert cost_model.runs_per_month("rate(1 hour)") == pytest.approx(730)
    assert cost_model.runs_per_month("cron(0 6 * * ? *)") == pytest.approx(730 / 24)
    assert cost_model.runs_per_month("cron(0/30 8-17 ? * MON-FRI *)") == pytest.approx(
        2 * 10 * 730 / 24 * 5 / 7)
    with pytest.raises(ValueError, match="unsupported schedule"):
        cost_model.runs_per_month("at(2027-01-01T00:00:00)")


def test_one_key_in_the_catalog_and_every_failure_signal_alarmed() -> None:
    assert FACTS.shared_keys == 1
    assert all(facts.composed.keys == 0 for facts in FACTS.automations)
    assert FACTS.shared_alarms == 1  # the dead-letter queue's depth
    with_errors_alarms = cost_model.read_templates({"FunctionErrorAlarms": "true"})
    for facts, with_errors in zip(FACTS.automations, with_errors_alarms.automations,
                                  strict=True):
        # alone, the dead-letter queue's alarm of its own
        assert facts.alone.alarms == facts.composed.alarms + 1
        assert facts.alone.keys == 1
        # its function's Errors alarm: kept by the key rotation and the notifier, the others'
        # with FunctionErrorAlarms=true (their failures page through the dead-letter queue)
        assert with_errors.composed.alarms >= len(facts.composed.functions)
        if facts.name in {"access_key_rotation", "slack_notifier"}:
            assert facts.composed.alarms >= len(facts.composed.functions)
        else:
            assert with_errors.composed.alarms == facts.composed.alarms + 1


def test_scaling_is_monotonic() -> None:
    def total(assumptions: Assumptions) -> float:
        overrides = cost_model.template_overrides(assumptions)
        measured = cost_model.load_measured()
        return cost_model.model(cost_model.read_templates(overrides), measured,
                                assumptions).catalog.total

    base = COSTS.catalog.total
    more_resources = total(replace(ASSUMPTIONS, resources=10_000))
    more_regions = total(replace(ASSUMPTIONS, regions=2))
    more_accounts = total(replace(ASSUMPTIONS, accounts=10, regions=2))
    assert base < more_resources < total(replace(ASSUMPTIONS, resources=100_000))
    assert base < more_regions < more_accounts
    assert base < total(replace(ASSUMPTIONS, dispatch=True))
    assert base < total(replace(ASSUMPTIONS, cold_start_metric=True))
    assert base < total(replace(ASSUMPTIONS, function_error_alarms=True))


def test_the_report_states_each_target_check_and_the_prices() -> None:
    text = cost_model.report(COSTS, cost_model.load_measured())
    assert re.search(r"### The catalog: \$[\d.]+ a month \(target \$3\.00: (met|NOT met)\)", text)
    for name in COSTS.automations:
        assert re.search(rf"\| {name} \| (on|off) \| \$[\d.]+ \| (met|NOT met) \|", text), name
    for price in PRICES.values():
        assert price.source in text
    assert "free tier NOT applied" in text


def test_the_docs_quote_the_model() -> None:
    blocks = cost_model.cost_blocks(COSTS)
    readme = cost_model.README.read_text()
    for automation in COSTS.automations:
        assert cost_model.docs_page(automation, readme) in blocks, automation
    for page, block in blocks.items():
        text = page.read_text()
        assert cost_model.with_cost_block(text, block) == text, (
            f"{page.name}: its Cost section is not the model's (run make bench)")


def test_the_measured_file_covers_every_automation_with_events() -> None:
    measured = json.loads(cost_model.MEASURED.read_text())
    from tests.lambda_env import SAMPLES

    folders = {p.name for p in Path("events").iterdir() if p.is_dir()}
    # An automation whose every sample is refused in dry-run (a rotation step) is priced at
    # the model's default run, which the report names.
    refused = {name for name, sample in SAMPLES.items() if sample.refusal is not None}
    assert folders - refused <= set(measured["runs"])
    assert measured["resources"] == cost_model.RESOURCES


@pytest.mark.usefixtures("aws")
def test_the_metrics_the_model_prices_are_those_the_code_emits() -> None:
    """The recorded runs' EMF output names only metrics the model prices, and every metric
    the model prices for a run that acted (an action, a failure) is one the code can emit."""
    measured = cost_model.load_measured()
    for automation, runs in measured.items():
        priced = set(cost_model.emitted_metrics(automation))
        for run in runs.values():
            assert set(run.metrics) <= priced, (automation, run)
    seen = {metric for runs in measured.values() for run in runs.values()
            for metric in run.metrics}
    assert {"Actions", "ActionsFailed"} <= seen
    # And now, on moto: a run of the scheduler's sample (one malformed tag fails an action).
    from tests.instance_scheduler.seed import make_instances

    run = cost_model.run_sample("instance_scheduler", "scheduler-run.json", make_instances, 3)
    assert set(run.metrics) == {"Actions", "ActionsFailed"}
    assert run.calls > 0
    assert run.log_bytes > 0


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("setting", ["", "true"])
def test_the_cold_start_metric_only_when_asked_for(
    setting: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from aws_lambda_powertools.metrics.provider import cold_start

    monkeypatch.setenv("COLD_START_METRIC", setting)
    monkeypatch.setenv("DRY_RUN", "true")
    monkeypatch.setattr(cold_start, "is_cold_start", True)
    handler: Any = importlib.import_module("access_key_auditor.app").lambda_handler
    from tests.conftest import seed_event

    with seed_event("access_key_auditor", "daily-audit"):
        handler(load_event("access_key_auditor/daily-audit.json"), FakeLambdaContext())
    names = cost_model._metric_names(capsys.readouterr().out)
    assert ("ColdStart" in names) is (setting == "true")


def test_counts_are_one_metric_with_failures_apart() -> None:
    from opskit.observability import METRIC_NAMES, metrics, record_counts

    metrics.clear_metrics()
    record_counts({"done": 2, "planned": 3, "skipped": 1, "failed": 0})
    assert set(metrics.metric_set) == {"Actions"}
    assert metrics.metric_set["Actions"]["Value"] == [6]
    record_counts({"done": 0, "planned": 0, "skipped": 0, "failed": 2})
    assert metrics.metric_set["ActionsFailed"]["Value"] == [2]
    record_counts({"done": 0, "planned": 0, "skipped": 0, "failed": 0})
    assert metrics.metric_set["Actions"]["Value"] == [6, 2]  # nothing added for a quiet run
    assert set(METRIC_NAMES) == {"Actions", "ActionsFailed", "TargetsFailed"}
    metrics.clear_metrics()
