from __future__ import annotations

from typing import Any

from opskit.actions import Action, Executor
from opskit.aws import Target
from opskit.config import CommonConfig
from opskit.observability import metrics
from opskit.runner import TargetRun, run_automation
from tests.conftest import ACCOUNT, AlertInbox, ApiCalls

OTHER = "222222222222"


def test_run_reports_per_target_and_isolates_failures(api_calls: ApiCalls,
                                                      alert_inbox: AlertInbox) -> None:
    topic = alert_inbox.topic_arn
    config = CommonConfig.from_env("demo", {
        "AWS_REGION": "eu-west-1", "ALERT_TOPIC_ARN": topic,
        "TARGET_ACCOUNTS": f"{ACCOUNT},{OTHER}", "DRY_RUN": "false"})
    applied: list[str] = []

    def work(target: Target, executor: Executor) -> TargetRun:
        if target.account_id == OTHER:
            raise RuntimeError("AccessDenied on DescribeInstances")
        executor.run([Action("i-1", "ec2:instance", "stop", "why")],
                     lambda batch: applied.extend(a.resource for a in batch))
        return TargetRun(title="Stopped 1 instance")

    summary = run_automation(config, work, run_id="req-1")
    assert applied == ["i-1"]
    assert summary["counts"] == {"done": 1, "planned": 0, "skipped": 0, "failed": 0}
    assert summary["failed_targets"] == [
        {"account": OTHER, "region": "eu-west-1",
         "error": "RuntimeError: AccessDenied on DescribeInstances"}]
    reports = {r["account"]: r for r in alert_inbox.received()}
    assert reports[ACCOUNT]["title"] == "Stopped 1 instance"
    assert reports[OTHER]["severity"] == "critical"
    assert reports[OTHER]["error"] == "RuntimeError: AccessDenied on DescribeInstances"
    assert api_calls.of("sns", "Publish") == 2
    assert metrics.metric_set["Actions"]["Value"] == [1]
    assert "ActionsFailed" not in metrics.metric_set  # only when an action failed
    assert metrics.metric_set["TargetsFailed"]["Value"] == [1]
    assert metrics.dimension_set["automation"] == "demo"


def test_quiet_run_publishes_nothing(api_calls: ApiCalls, alert_inbox: AlertInbox) -> None:
    config = CommonConfig.from_env("demo", {"AWS_REGION": "eu-west-1",
                                            "ALERT_TOPIC_ARN": alert_inbox.topic_arn})
    summary = run_automation(config, lambda target, executor: TargetRun(), run_id="req-2")
    assert summary["targets"][0]["title"] == "demo: nothing to do"
    assert api_calls.of("sns", "Publish") == 0
    assert alert_inbox.received() == []


def test_quiet_run_publishes_only_failures(alert_inbox: AlertInbox) -> None:
    config = CommonConfig.from_env("demo", {"AWS_REGION": "eu-west-1", "DRY_RUN": "false",
                                            "ALERT_TOPIC_ARN": alert_inbox.topic_arn})

    def work(fail: bool) -> Any:
        def run(target: Target, executor: Executor) -> TargetRun:
            action = Action("r-1", "t", "tag", "routine")
            if fail:
                executor.fail(action, "denied")
            else:
                executor.run([action], lambda batch: None)
            return TargetRun(quiet=True)
        return run

    run_automation(config, work(False), run_id="quiet")
    assert alert_inbox.received() == []
    run_automation(config, work(True), run_id="loud")
    assert [r["counts"]["failed"] for r in alert_inbox.received()] == [1]
