"""Renderers of each source, severity rules, link safety and render() never raising."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from opskit.config import is_region
from slack_notifier import console_links as links
from slack_notifier.notice import Notice
from slack_notifier.renderers import Incoming, render, render_unknown
from slack_notifier.slack_message import to_slack
from slack_notifier.sources import from_direct_event, from_sqs_body, is_sqs_batch

EVENTS = Path(__file__).resolve().parents[2] / "events" / "slack_notifier"
SAMPLES = sorted(EVENTS.glob("*.json"))
REGION = "eu-west-1"
CONSOLE = f"https://{REGION}.console.aws.amazon.com"


def arrive(event: Any, region: str = REGION) -> list[Incoming]:
    """As the handler does: SQS records through from_sqs_body, anything else directly."""
    if is_sqs_batch(event):
        return [from_sqs_body(str(r["body"]), r.get("awsRegion")) for r in event["Records"]]
    return from_direct_event(event, region)


def sample(name: str) -> Notice:
    [incoming] = arrive(json.loads((EVENTS / name).read_text()))
    return render(incoming)


def field(notice: Notice, name: str) -> str:
    return dict(notice.fields)[name]


def event(source: str, detail_type: str, detail: dict[str, Any],
          resources: list[str] | None = None) -> dict[str, Any]:
    return {"version": "0", "id": "0d1c7b2e-5a3f-4e19-9b8c-2f6a1d4e7c30",
            "detail-type": detail_type, "source": source, "account": "123456789012",
            "time": "2026-11-24T10:00:00Z", "region": REGION, "resources": resources or [],
            "detail": detail}


# ---------------------------------------------------------------- each new sample
@pytest.mark.parametrize(
    ("name", "source", "severity", "title", "fields", "url"),
    [("eventbridge-alarm-state-change.json", "cloudwatch.alarm", "critical",
      "ALARM: orders-api-p99-latency",
      {"State": "OK → ALARM", "Metric": "AWS/ApplicationELB TargetResponseTime",
       "Condition": "p99 over 300 s, threshold 1.5", "Since": "2026-11-24T14:05:31.486+0000"},
      f"{CONSOLE}/cloudwatch/home?region={REGION}#alarmsV2:alarm/orders-api-p99-latency"),
     ("eventbridge-alarm-composite.json", "cloudwatch.alarm", "critical",
      "ALARM: orders-api-degraded",
      {"Rule": 'ALARM("orders-api-p99-latency") OR ALARM("orders-api-5xx")',
       "Triggered by": "orders-api-p99-latency"},
      f"{CONSOLE}/cloudwatch/home?region={REGION}#alarmsV2:alarm/orders-api-degraded"),
     ("lambda-alarm-action.json", "cloudwatch.alarm", "warning",
      "INSUFFICIENT_DATA: checkout-error-rate",
      {"State": "OK → INSUFFICIENT_DATA", "Dimensions": "ApiName=checkout, Stage=prod",
       "Condition": "100 * errors / requests, threshold 2.0"},
      f"{CONSOLE}/cloudwatch/home?region={REGION}#alarmsV2:alarm/checkout-error-rate"),
     ("eventbridge-securityhub-finding.json", "aws.securityhub", "critical",
      "Security Hub: S3.8 S3 general purpose buckets should block public access",
      {"Severity": "HIGH", "Resource": "AwsS3Bucket arn:aws:s3:::orders-exports-prod",
       "Compliance": "FAILED", "Workflow": "NEW", "Product": "Security Hub"},
      f"{CONSOLE}/securityhub/home?region={REGION}#/findings?search=Id%3D%255Coperator"),
     ("eventbridge-securityhub-findings-batch.json", "aws.securityhub", "critical",
      "Security Hub: 3 findings (worst CRITICAL)", {"Severity": "CRITICAL", "Findings": "3"},
      f"{CONSOLE}/securityhub/home?region={REGION}#/findings?search=Id%3D"),
     ("eventbridge-ecs-service-action.json", "aws.ecs", "critical",
      "ECS service orders-worker: SERVICE_TASK_PLACEMENT_FAILURE",
      {"Cluster": "orders-prod", "Service": "orders-worker", "Reasons": "RESOURCE:MEMORY"},
      f"{CONSOLE}/ecs/v2/clusters/orders-prod/services/orders-worker/health?region={REGION}"),
     ("eventbridge-ecs-deployment-failed.json", "aws.ecs", "critical",
      "ECS service orders-api: SERVICE_DEPLOYMENT_FAILED",
      {"Deployment": "ecs-svc/4817309528461052816", "Event": "SERVICE_DEPLOYMENT_FAILED"},
      f"{CONSOLE}/ecs/v2/clusters/orders-prod/services/orders-api/deployments"
      f"?region={REGION}"),
     ("eventbridge-codepipeline-action-failed.json", "aws.codepipeline", "critical",
      "Pipeline orders-api action Deploy/DeployProd FAILED",
      {"Stage": "Deploy", "Action": "DeployProd", "Provider": "AWS CodeDeploy (Deploy)",
       "Error code": "JobFailed"},
      f"{CONSOLE}/codesuite/codepipeline/pipelines/orders-api/executions/"
      f"9c3e7a15-2d4b-4f86-b1e0-6a8d5c2f7e39/timeline?region={REGION}"),
     ("sqs-codestar-pipeline-failed.json", "aws.codepipeline", "critical",
      "Pipeline orders-api FAILED", {"Failed stage": "Deploy", "State": "FAILED"},
      f"{CONSOLE}/codesuite/codepipeline/pipelines/orders-api/executions/"
      f"9c3e7a15-2d4b-4f86-b1e0-6a8d5c2f7e39/timeline?region={REGION}"),
     ("eventbridge-backup-job-failed.json", "aws.backup", "critical",
      "Backup job FAILED: orders-db",
      {"Resource type": "RDS", "Vault": "prod-daily",
       "Job": "3a9f2c7e-1d4b-4e86-b0a5-7c2e9f1d4b38"},
      f"{CONSOLE}/backup/home?region={REGION}#/jobs/backup/details/"
      "3a9f2c7e-1d4b-4e86-b0a5-7c2e9f1d4b38"),
     ("sqs-backup-notification.json", "aws.backup", "critical",
      "Backup job FAILED: vol-0b3e9d7a1f5c24e86",
      {"Resource": "arn:aws:ec2:eu-west-1:123456789012:volume/vol-0b3e9d7a1f5c24e86",
       "Job": "8c1f4e7a-3d9b-4a25-b6e0-2f7d9c1a5e43"},
      f"{CONSOLE}/backup/home?region={REGION}#/jobs/backup/details/"
      "8c1f4e7a-3d9b-4a25-b6e0-2f7d9c1a5e43"),
     ("sqs-budgets-exceeded.json", "aws.budgets", "critical",
      "AWS Budgets: monthly-total has exceeded your alert threshold",
      {"Budget": "monthly-total", "Budgeted": "$5,000.00", "Actual": "$5,312.48",
       "Threshold": "> $4,000.00", "Alert type": "ACTUAL"},
      "https://console.aws.amazon.com/costmanagement/home#/budgets"),
     ("sqs-cost-anomaly.json", "aws.ce", "critical",
      "Cost anomaly: $1,172.41 above expected in Amazon Elastic Compute Cloud - Compute "
      "(services-monitor)",
      {"Impact": "$1,172.41 (138.93% above expected)",
       "Spend": "$2,016.31 actual, $843.90 expected"},
      "https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/"
      "2f7c9e1a-4b3d-4e86-a5c0-9d1e7b3f2a64/anomalies/8e1b4d7f-3c9a-4f26-b0e5-2a7d9c1f4e83")],
)
def test_new_samples_render(  # noqa: PLR0917 (one parameter per column of the table)
        name: str, source: str, severity: str, title: str, fields: dict[str, str],
        url: str) -> None:
    notice = sample(name)
    assert (notice.source, notice.severity, notice.title) == (source, severity, title)
    for key, value in fields.items():
        assert field(notice, key) == value
    assert notice.link is not None
    assert notice.link.url.startswith(url)
    assert notice.account == "123456789012"
    assert to_slack(notice)["attachments"]


def test_alarm_sample_text_is_description_then_reason() -> None:
    notice = sample("eventbridge-alarm-state-change.json")
    description, reason = notice.text.split("\n")
    assert description.startswith("p99 latency of orders-api")
    assert reason.startswith("Threshold Crossed")
    assert notice.region == REGION


def test_securityhub_batch_has_one_line_per_finding() -> None:
    notice = sample("eventbridge-securityhub-findings-batch.json")
    assert [line.split(" ")[0] for line in notice.lines] == ["MEDIUM", "CRITICAL", "LOW"]
    assert notice.link is not None
    assert notice.link.label == "Open findings"
    assert notice.link.url.count("%26Id%3D") == 2


def test_codestar_adds_failed_actions() -> None:
    notice = sample("sqs-codestar-pipeline-failed.json")
    assert notice.lines == (":x: DeployProd: Deployment d-7QW2E9RT4 failed: 2 of 4 instances "
                            "failed the ValidateService hook",)
    assert field(notice, "Notification rule") == "2b7e9f4c1d3a5e8b0c6f9a2d4e7b1c3f5a8d0e2b"


def test_backup_sns_keeps_the_message() -> None:
    notice = sample("sqs-backup-notification.json")
    assert notice.text.startswith("An AWS Backup job failed.")
    assert field(notice, "Started") == "2026-11-26T03:00:09.771Z"


# ---------------------------------------------------------------- severity rules
def alarm_event(state: str) -> dict[str, Any]:
    return event("aws.cloudwatch", "CloudWatch Alarm State Change",
                 {"alarmName": "a", "state": {"value": state}, "previousState": {"value": "OK"},
                  "configuration": {}},
                 ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a"])


def alarm_action(state: str) -> dict[str, Any]:
    return {"source": "aws.cloudwatch", "accountId": "123456789012", "region": REGION,
            "alarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a",
            "time": "2026-11-24T10:00:00.000+0000",
            "alarmData": {"alarmName": "a", "state": {"value": state}, "configuration": {}}}


@pytest.mark.parametrize("build", [alarm_event, alarm_action])
@pytest.mark.parametrize(("state", "severity"),
                         [("ALARM", "critical"), ("INSUFFICIENT_DATA", "warning"),
                          ("OK", "ok"), ("EXPLODED", "warning")])
def test_alarm_state_severity(build: Any, state: str, severity: str) -> None:
    [incoming] = arrive(build(state))
    notice = render(incoming)
    assert (notice.source, notice.severity, notice.title) == (
        "cloudwatch.alarm", severity, f"{state}: a")


def finding(severity: dict[str, Any], title: str = "t") -> dict[str, Any]:
    return {"Id": f"id-{title}", "Title": title, "Severity": severity,
            "AwsAccountId": "123456789012", "Region": REGION,
            "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::b"}]}


@pytest.mark.parametrize(
    ("severity", "expected", "label"),
    [({"Label": "CRITICAL"}, "critical", "CRITICAL"), ({"Label": "HIGH"}, "critical", "HIGH"),
     ({"Label": "MEDIUM"}, "warning", "MEDIUM"), ({"Label": "LOW"}, "info", "LOW"),
     ({"Label": "INFORMATIONAL"}, "info", "INFORMATIONAL"),
     ({"Normalized": 95}, "critical", "CRITICAL"), ({"Normalized": 70}, "critical", "HIGH"),
     ({"Normalized": 40}, "warning", "MEDIUM"), ({"Normalized": 39}, "info", "LOW"),
     ({"Normalized": 0}, "info", "INFORMATIONAL"), ({"Normalized": "x"}, "info",
                                                    "INFORMATIONAL")],
)
def test_securityhub_severity(severity: dict[str, Any], expected: str, label: str) -> None:
    for detail_type in ("Security Hub Findings - Imported",
                        "Security Hub Findings - Custom Action"):
        notice = render(Incoming(event("aws.securityhub", detail_type,
                                       {"findings": [finding(severity)]})))
        assert (notice.source, notice.severity) == ("aws.securityhub", expected)
        assert field(notice, "Severity") == label


def test_securityhub_several_findings_take_the_worst() -> None:
    notice = render(Incoming(event("aws.securityhub", "Security Hub Findings - Imported", {
        "findings": [finding({"Label": "LOW"}, "a"), finding({"Label": "MEDIUM"}, "b")]})))
    assert (notice.severity, notice.title) == ("warning", "Security Hub: 2 findings (worst MEDIUM)")
    assert len(notice.lines) == 2


@pytest.mark.parametrize(
    ("detail_type", "kind", "name", "severity"),
    [("ECS Service Action", "ERROR", "SERVICE_TASK_PLACEMENT_FAILURE", "critical"),
     ("ECS Service Action", "WARN", "SERVICE_TASK_START_IMPAIRED", "warning"),
     ("ECS Service Action", "INFO", "SERVICE_STEADY_STATE", "info"),
     ("ECS Deployment State Change", "ERROR", "SERVICE_DEPLOYMENT_FAILED", "critical"),
     ("ECS Deployment State Change", "INFO", "SERVICE_DEPLOYMENT_FAILED", "critical"),
     ("ECS Deployment State Change", "INFO", "SERVICE_DEPLOYMENT_IN_PROGRESS", "info"),
     ("ECS Deployment State Change", "INFO", "SERVICE_DEPLOYMENT_COMPLETED", "ok")],
)
def test_ecs_service_severity(detail_type: str, kind: str, name: str, severity: str) -> None:
    notice = render(Incoming(event(
        "aws.ecs", detail_type,
        {"eventType": kind, "eventName": name, "deploymentId": "ecs-svc/1",
         "clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod"},
        ["arn:aws:ecs:eu-west-1:123456789012:service/prod/web"])))
    assert (notice.source, notice.severity, notice.title) == (
        "aws.ecs", severity, f"ECS service web: {name}")


@pytest.mark.parametrize(("state", "severity"),
                         [("FAILED", "critical"), ("STOPPED", "warning"),
                          ("CANCELED", "warning"), ("SUCCEEDED", "ok"), ("STARTED", "info")])
def test_pipeline_stage_severity(state: str, severity: str) -> None:
    notice = render(Incoming(event(
        "aws.codepipeline", "CodePipeline Stage Execution State Change",
        {"pipeline": "p", "execution-id": "e-1", "stage": "Build", "state": state})))
    assert (notice.severity, notice.title) == (severity, f"Pipeline p stage Build {state}")
    assert notice.link is not None
    assert notice.link.url.startswith(f"{CONSOLE}/codesuite/codepipeline/pipelines/p/")


@pytest.mark.parametrize(("url", "shown"), [
    ("https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/projects/x", True),
    ("https://evil.example/phish", False),
    ("https://eu-west-1.console.aws.amazon.com.evil.example/", False),
    ("https://user@eu-west-1.console.aws.amazon.com/", False),
    ("http://eu-west-1.console.aws.amazon.com/", False),
    ("javascript:alert(1)", False)])
def test_external_execution_url_only_on_a_console_host(url: str, shown: bool) -> None:
    notice = render(Incoming(event(
        "aws.codepipeline", "CodePipeline Action Execution State Change",
        {"pipeline": "p", "execution-id": "e-1", "stage": "Build", "action": "Build",
         "state": "FAILED", "execution-result": {"external-execution-url": url}})))
    assert ("Details" in dict(notice.fields)) is shown
    assert notice.link is not None
    assert "evil" not in notice.link.url


@pytest.mark.parametrize(
    ("detail_type", "detail", "severity"),
    [("Backup Job State Change", {"backupJobId": "j", "state": "FAILED"}, "critical"),
     ("Backup Job State Change", {"backupJobId": "j", "state": "ABORTED"}, "warning"),
     ("Backup Job State Change", {"backupJobId": "j", "state": "EXPIRED"}, "warning"),
     ("Backup Job State Change", {"backupJobId": "j", "state": "COMPLETED"}, "ok"),
     ("Backup Job State Change", {"backupJobId": "j", "state": "RUNNING"}, "info"),
     ("Copy Job State Change", {"copyJobId": "j", "state": "FAILED"}, "critical"),
     ("Restore Job State Change", {"restoreJobId": "j", "status": "COMPLETED"}, "ok")],
)
def test_backup_severity(detail_type: str, detail: dict[str, Any], severity: str) -> None:
    notice = render(Incoming(event("aws.backup", detail_type, detail)))
    assert (notice.source, notice.severity) == ("aws.backup", severity)
    kind = detail_type.split(" ", maxsplit=1)[0].lower()
    assert notice.link is not None
    assert notice.link.url == f"{CONSOLE}/backup/home?region={REGION}#/jobs/{kind}/details/j"


def test_backup_sns_completed_is_ok() -> None:
    notice = render(Incoming(
        "An AWS Backup job was completed successfully. Recovery point ARN: "
        "arn:aws:ec2:eu-west-1:123456789012:snapshot/snap-0a1b. Resource ARN : "
        "arn:aws:ec2:eu-west-1:123456789012:volume/vol-0a1b. BackupJob ID : 1b2c",
        subject="Notification from AWS Backup", region=REGION,
        attributes={"EventType": "BACKUP_JOB", "State": "COMPLETED"}))
    assert (notice.source, notice.severity) == ("aws.backup", "ok")
    assert field(notice, "Job") == "1b2c"
    assert field(notice, "Recovery point") == (
        "arn:aws:ec2:eu-west-1:123456789012:snapshot/snap-0a1b")


BUDGET = """AWS Budget Notification November 27, 2026
AWS Account 123456789012

Budget Name: team-a
Budget Type: Cost
Budgeted Amount: $1,000.00
Alert Type: {kind}
Alert Threshold: > $800.00
{kind} Amount: {amount}
"""


@pytest.mark.parametrize(("kind", "amount", "severity"),
                         [("ACTUAL", "$1,000.01", "critical"), ("ACTUAL", "$950.00", "warning"),
                          ("FORECASTED", "$1,500.00", "warning")])
def test_budgets_severity(kind: str, amount: str, severity: str) -> None:
    notice = render(Incoming(BUDGET.format(kind=kind, amount=amount),
                             subject="AWS Budgets: team-a has exceeded your alert threshold"))
    assert (notice.source, notice.severity) == ("aws.budgets", severity)
    assert field(notice, "Actual" if kind == "ACTUAL" else "Forecast") == amount
    assert notice.text.startswith("AWS Budget Notification")


def anomaly(total: Any, link: str = "") -> dict[str, Any]:
    return {"accountId": "123456789012", "anomalyId": "an-1", "monitorName": "m",
            "monitorArn": "arn:aws:ce::123456789012:anomalymonitor/mon-1",
            "anomalyDetailsLink": link, "impact": {"totalImpact": total},
            "rootCauses": [{"service": "Amazon S3"}]}


@pytest.mark.parametrize(("total", "severity"),
                         [(1000, "critical"), (999.99, "warning"), (100, "warning"),
                          (99.5, "info"), (None, "warning"), ("n/a", "warning")])
def test_cost_anomaly_severity(total: Any, severity: str) -> None:
    for payload in (anomaly(total), event("aws.ce", "Anomaly Detected", anomaly(total))):
        notice = render(Incoming(payload))
        assert (notice.source, notice.severity) == ("aws.ce", severity)


@pytest.mark.parametrize(("given", "expected"), [
    ("https://console.aws.amazon.com/cost-management/home#/anomaly-detection/x",
     "https://console.aws.amazon.com/cost-management/home#/anomaly-detection/x"),
    ("https://evil.example/cost-management",
     "https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/"
     "mon-1/anomalies/an-1")])
def test_cost_anomaly_link(given: str, expected: str) -> None:
    notice = render(Incoming(anomaly(500, given)))
    assert notice.link is not None
    assert notice.link.url == expected


# ---------------------------------------------------------------- links
ALLOWED_HOSTS = {"console.aws.amazon.com", "console.amazonaws.cn",
                 "console.amazonaws-us-gov.com", "health.aws.amazon.com"}


def assert_safe(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    assert parts.scheme == "https", url
    assert parts.netloc == host, url  # no user info, no port
    if host not in ALLOWED_HOSTS:
        prefix, _, rest = host.partition(".")
        assert rest == "console.aws.amazon.com", url
        assert is_region(prefix), url
        assert prefix.isascii(), url


HOSTILE = ["evil.example/#", "evil.example?", "eu-west-1.evil.example/", "x@evil.example",
           "eu-west-\u0661", "us-gov-west-1.evil.example#", "%2e%2e/evil", ""]


def hostile_samples(value: str) -> list[tuple[str, list[Incoming]]]:
    found = []
    for path in SAMPLES:
        raw = path.read_text().replace(REGION, value)  # at every level: ARNs, regions, topics
        found.append((path.name, arrive(json.loads(raw), value)))
    return found


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_regions_never_leave_the_console(value: str) -> None:
    rendered = 0
    for name, incomings in hostile_samples(value):
        for incoming in incomings:
            notice = render(incoming)
            rendered += 1
            if notice.link is not None:
                assert_safe(notice.link.url)
                assert notice.link.url.startswith("https://console.aws.amazon.com/") or \
                    notice.link.url.startswith("https://health.aws.amazon.com/"), (
                        name, notice.link.url)
            assert notice.region is None or (is_region(notice.region)
                                             and notice.region.isascii()), (name, notice.region)
            assert value == "" or value not in json.dumps(to_slack(notice)["attachments"][0][
                "blocks"][-1]), name
    assert rendered >= len(SAMPLES)


def test_samples_link_only_to_console_hosts() -> None:
    for path in SAMPLES:
        for incoming in arrive(json.loads(path.read_text())):
            notice = render(incoming)
            if notice.link is not None:
                assert_safe(notice.link.url)


def test_hostile_account_is_not_linked_or_shown() -> None:
    raw = (EVENTS / "eventbridge-codebuild-failed.json").read_text()
    [incoming] = arrive(json.loads(raw.replace('"account": "123456789012"',
                                               '"account": "1@evil.example/.."')))
    notice = render(incoming)
    assert notice.account is None
    assert notice.link is None  # the CodeBuild link has the account in its path


@pytest.mark.parametrize(("arn", "linked"), [
    ("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a", True),
    ("arn:aws:cloudwatch:evil.example/#:123456789012:alarm:a", False),
    ("arn:aws:cloudwatch:eu-west-1:12345:alarm:a", False),
    ("arn:aws-cn:cloudwatch:eu-west-1:123456789012:alarm:a", False),
    ("not an arn", False)])
def test_sns_alarm_arn_is_checked(arn: str, linked: bool) -> None:
    notice = render(Incoming({"AlarmName": "a", "NewStateValue": "ALARM", "AlarmArn": arn},
                             region="evil.example/#"))
    assert (notice.link is not None) is linked
    assert notice.region == (REGION if linked else None)


def test_sns_alarm_without_arn_uses_a_valid_topic_region() -> None:
    notice = render(Incoming({"AlarmName": "a b", "NewStateValue": "ALARM"}, region=REGION))
    assert notice.link is not None
    assert notice.link.url.endswith("#alarmsV2:alarm/a%20b")


@pytest.mark.parametrize(("region", "url"), [
    ("eu-west-1", "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"),
    ("cn-north-1", "https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1"),
    ("us-gov-west-1",
     "https://console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1"),
    ("us-iso-east-1", None), ("evil.example/#", None), ("", None)])
def test_console_host_by_partition(region: str, url: str | None) -> None:
    built = links.alarm(region, "a")
    assert (built.split("#")[0] if built else None) == url


def test_ids_are_percent_encoded() -> None:
    assert links.ec2_instance(REGION, "i-1&x=<y>#z") == (
        f"{CONSOLE}/ec2/home?region={REGION}#InstanceDetails:instanceId=i-1%26x%3D%3Cy%3E%23z")
    assert links.backup_job(REGION, "backup", "a/../b") == (
        f"{CONSOLE}/backup/home?region={REGION}#/jobs/backup/details/a%2F..%2Fb")


# ---------------------------------------------------------------- render never raises
def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def test_deeply_nested_json_is_described_not_raised() -> None:
    payload = nested(100_000)  # 100,001 lists: 200 KB as JSON
    notice = render(Incoming(payload))
    assert notice.source == "json"
    assert notice.text == "(JSON nested too deeply to show, 200002 characters)"
    assert to_slack(notice)["attachments"]
    assert render_unknown(payload, Incoming(payload)).text == notice.text


def test_deep_nesting_inside_a_known_shape() -> None:
    payload = event("aws.securityhub", "Security Hub Findings - Imported",
                    {"findings": [{"Title": nested(5000)}]})
    notice = render(Incoming(payload))
    assert to_slack(notice)["attachments"]


class Hostile:
    def __str__(self) -> str:
        raise RuntimeError("no")

    __repr__ = __str__


@pytest.mark.parametrize("payload", [
    {"AlarmName": Hostile(), "NewStateValue": "ALARM"},
    {"source": "aws.cloudwatch", "alarmData": {"alarmName": Hostile()}},
    {"detail-type": "Anomaly Detected", "source": "aws.ce", "region": REGION,
     "detail": {"anomalyId": "x", "impact": {"totalImpact": Hostile()}}},
    Hostile()])
def test_render_never_raises(payload: Any) -> None:
    notice = render(Incoming(payload, subject="s"))
    assert isinstance(notice, Notice)
    assert to_slack(notice)["attachments"]


# ---------------------------------------------------------------- review fixes
SH_IMPORTED = "Security Hub Findings - Imported"


@pytest.mark.parametrize(("workflow", "record", "severity"), [
    ("NEW", "ACTIVE", "critical"), ("NOTIFIED", "ACTIVE", "critical"), (None, None, "critical"),
    ("RESOLVED", "ACTIVE", "ok"), ("NEW", "ARCHIVED", "ok"), ("SUPPRESSED", "ACTIVE", "info"),
    ("SUPPRESSED", "ARCHIVED", "ok")])
def test_securityhub_closed_findings_do_not_page(workflow: str | None, record: str | None,
                                                 severity: str) -> None:
    one = finding({"Label": "CRITICAL"})
    if workflow:
        one["Workflow"] = {"Status": workflow}
    if record:
        one["RecordState"] = record
    notice = render(Incoming(event("aws.securityhub", SH_IMPORTED, {"findings": [one]})))
    assert notice.severity == severity
    if workflow:
        assert field(notice, "Workflow") == workflow
    if record == "ARCHIVED":
        assert field(notice, "Record state") == "ARCHIVED"


def test_securityhub_batch_takes_the_worst_open_finding() -> None:
    resolved = finding({"Label": "CRITICAL"}, "a") | {"Workflow": {"Status": "RESOLVED"}}
    medium = finding({"Label": "MEDIUM"}, "b") | {"Workflow": {"Status": "NEW"}}
    notice = render(Incoming(event("aws.securityhub", SH_IMPORTED,
                                   {"findings": [resolved, medium]})))
    assert (notice.severity, notice.title) == ("warning", "Security Hub: 2 findings (worst MEDIUM)")
    assert notice.lines[0].endswith("[RESOLVED]")
    closed = render(Incoming(event("aws.securityhub", SH_IMPORTED, {"findings": [
        resolved, finding({"Label": "HIGH"}, "c") | {"Workflow": {"Status": "SUPPRESSED"}}]})))
    assert closed.severity == "info"


def test_securityhub_region_and_account_not_repeated() -> None:
    one = finding({"Label": "LOW"})
    notice = render(Incoming(event("aws.securityhub", SH_IMPORTED, {"findings": [one]})))
    assert "Account" not in dict(notice.fields)
    assert "Region" not in dict(notice.fields)
    del one["Region"]
    notice = render(Incoming(event("aws.securityhub", SH_IMPORTED,
                                   {"findings": [one, finding({"Label": "LOW"}, "b")]})))
    assert notice.lines[0].endswith("(123456789012)")


def test_ecs_task_containers_that_never_started() -> None:
    notice = render(Incoming(event("aws.ecs", "ECS Task State Change", {
        "clusterArn": "arn:aws:ecs:eu-west-1:123456789012:cluster/c",
        "taskArn": "arn:aws:ecs:eu-west-1:123456789012:task/c/t1", "lastStatus": None,
        "stopCode": "TaskFailedToStart", "stoppedReason": "CannotPullContainerError",
        "containers": [{"name": "app"}, {"exitCode": 1}, {"name": "log", "exitCode": None}]})))
    assert field(notice, "Exit codes") == "?=1"
    assert notice.title == "ECS task in t1"
    assert "None" not in json.dumps(to_slack(notice))


@pytest.mark.parametrize("context", ["[: ]", "[]", None, "", " "])
def test_codebuild_empty_phase_context(context: str | None) -> None:
    notice = render(Incoming(event("aws.codebuild", "CodeBuild Build State Change", {
        "build-status": "FAILED", "project-name": "p", "build-id": "x/p:1",
        "current-phase": "COMPLETED", "current-phase-context": context})))
    assert field(notice, "Phase") == "COMPLETED"


NULLS = [
    event("aws.codedeploy", "CodeDeploy Deployment State-change Notification",
          {"application": None, "deploymentGroup": "g", "state": "FAILURE"}),
    event("aws.guardduty", "GuardDuty Finding", {"title": None, "type": None, "severity": 8}),
    event("aws.health", "AWS Health Event", {"service": None, "eventTypeCode": "X"}),
    {"AlarmName": "a", "NewStateValue": "ALARM", "OldStateValue": None,
     "Trigger": {"MetricName": "CPUUtilization", "Namespace": None, "Threshold": 80,
                 "ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 3,
                 "Period": None, "Statistic": "AVERAGE",
                 "Dimensions": [{"name": "InstanceId", "value": None}]}},
    {"schema": "opskit.report/1", "severity": "ok", "title": None, "automation": None,
     "actions": [{"status": "done", "action": None, "resource_type": "ec2:instance",
                  "resource": None, "reason": None}]},
    event("aws.ec2", "EC2 Instance State-change Notification",
          {"instance-id": None, "state": None}),
    event("aws.codepipeline", "CodePipeline Stage Execution State Change",
          {"pipeline": "p", "stage": None, "state": "FAILED"}),
]


@pytest.mark.parametrize("payload", NULLS)
def test_json_null_is_never_shown_as_none(payload: dict[str, Any]) -> None:
    notice = render(Incoming(payload))
    assert notice.source != "json"
    shown = json.dumps([notice.title, notice.text, notice.fields, notice.lines])
    assert "None" not in shown
    assert "?" not in shown


def test_alarm_null_parts_are_left_out() -> None:
    notice = render(Incoming(NULLS[3]))
    assert field(notice, "State") == "ALARM"
    assert field(notice, "Metric") == "CPUUtilization"
    assert field(notice, "Condition") == "AVERAGE GreaterThanThreshold 80 for 3 periods"
    assert "Dimensions" not in dict(notice.fields)
    [line] = render(Incoming(NULLS[4])).lines
    assert line == ":white_check_mark: done ec2:instance"


def test_backup_sns_null_attributes() -> None:
    incoming = Incoming("An AWS Backup job failed. Resource ARN : x.",
                        "Notification from AWS Backup", REGION,
                        {"EventType": "BACKUP_JOB", "State": "FAILED",
                         "Id": None, "StartTime": None})  # type: ignore[dict-item]
    notice = render(incoming)
    assert notice.source == "aws.backup"
    assert "None" not in json.dumps(notice.fields)


@pytest.mark.parametrize(("value", "shown"), [
    ({"a": 1}, "UNKNOWN: a"), ([1], "UNKNOWN: a"), (True, "true: a"), (1.5, "1.5: a")])
def test_text_of_a_non_scalar_is_empty(value: Any, shown: str) -> None:
    notice = render(Incoming({"AlarmName": "a", "NewStateValue": value}))
    assert notice.title == shown


def test_cost_anomaly_missing_and_negative_parts() -> None:
    payload = anomaly(-50) | {"anomalyScore": {"currentScore": None}}
    payload["impact"] |= {"totalActualSpend": 600, "totalExpectedSpend": None,
                          "totalImpactPercentage": -10}
    notice = render(Incoming(payload))
    assert notice.severity == "info"
    assert notice.title == "Cost anomaly: $50.00 below expected in Amazon S3 (m)"
    assert field(notice, "Impact") == "$50.00 (10% below expected)"
    assert field(notice, "Spend") == "$600.00 actual"
    assert "Score" not in dict(notice.fields)


@pytest.mark.parametrize(("url", "use", "ok"), [
    ("https://console.aws.amazon.com/../../federation?x", links.COST_ANOMALY_PATHS, False),
    ("https://console.aws.amazon.com/cost-management/../federation", links.COST_ANOMALY_PATHS,
     False),
    ("https://console.aws.amazon.com/cost-management/%2e%2e/x", links.COST_ANOMALY_PATHS, False),
    ("https://console.aws.amazon.com:443/cost-management/home", links.COST_ANOMALY_PATHS, False),
    ("https://console.aws.amazon.com/cost-management/home#/a@b", links.COST_ANOMALY_PATHS,
     False),
    ("https://console.aws.amazon.com/federation", links.COST_ANOMALY_PATHS, False),
    ("https://console.aws.amazon.com/cost-management/home#/x", links.COST_ANOMALY_PATHS, True),
    ("https://eu-west-1.console.aws.amazon.com/codedeploy/home#/d", links.PIPELINE_ACTION_PATHS,
     True),
    ("https://eu-west-1.console.aws.amazon.com/iam/home#/users", links.PIPELINE_ACTION_PATHS,
     False),
    ("https://eu-west-1.console.aws.amazon.com/codesuite//x", links.PIPELINE_ACTION_PATHS,
     False)])
def test_publisher_urls_need_the_expected_path(url: str, use: tuple[str, ...],
                                               ok: bool) -> None:
    assert links.is_console_url(url, use) is ok
    anomaly_notice = render(Incoming(anomaly(500, url)))
    assert anomaly_notice.link is not None
    assert (anomaly_notice.link.url == url) is (ok and use == links.COST_ANOMALY_PATHS)


def test_restore_job_names_what_it_restores() -> None:
    detail = {"restoreJobId": "r-1", "status": "FAILED", "resourceType": "RDS",
              "recoveryPointArn": "arn:aws:backup:eu-west-1:123456789012:recovery-point:rp-1"}
    notice = render(Incoming(event("aws.backup", "Restore Job State Change", detail)))
    assert notice.title == "Restore job FAILED: RDS"
    assert field(notice, "Recovery point") == detail["recoveryPointArn"]
    assert "Resource" not in dict(notice.fields)
    created = detail | {"status": "COMPLETED",
                        "createdResourceArn": "arn:aws:rds:eu-west-1:123456789012:db:restored"}
    notice = render(Incoming(event("aws.backup", "Restore Job State Change", created)))
    assert notice.title == "Restore job COMPLETED: restored"
    assert field(notice, "Created resource") == created["createdResourceArn"]
