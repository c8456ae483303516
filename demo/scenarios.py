"""One demo scenario per automation: seed sample resources, then run it like its trigger would."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import boto3
import botocore.handlers
import time_machine
from botocore.awsrequest import AWSResponse
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends

from access_key_auditor import app as auditor_app
from auto_tagger.app import lambda_handler as tagger_handler
from deploy_guard.app import lambda_handler as guard_handler
from iam_policy_guard.app import lambda_handler as iam_guard_handler
from instance_scheduler.app import lambda_handler
from log_shipper.app import lambda_handler as shipper_handler
from opskit.actions import Action, Executor
from opskit.aws import Target
from opskit.config import CommonConfig
from opskit.runner import TargetRun, run_automation
from opskit.tags import tags_to_dict
from rds_backup.app import lambda_handler as backup_handler
from rds_backup.inventory import QUOTA_NAMES, Quota, RdsReader
from resource_cleanup.app import lambda_handler as cleanup_handler
from s3_public_remediation.app import lambda_handler as s3_handler
from self_healing import healing as self_healing_guards
from self_healing.app import lambda_handler as healing_handler
from sg_open_port_remediation.app import lambda_handler as sg_handler
from slack_notifier import app as notifier_app
from slack_notifier.app import lambda_handler as notifier_handler

EVENTS = Path(__file__).resolve().parent.parent / "events"


@dataclass
class DemoContext:
    """What a Lambda context carries, for running handlers in-process."""

    function_name: str = "opskit-demo"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:opskit-demo"
    aws_request_id: str = "demo-run"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 900_000  # a fresh 15-minute invocation


def at_the_time_of(event: dict[str, Any]) -> Any:
    """A run's clock is the Lambda's, never the event's: the demo sets the clock to the sample
    event's time, so what it shows does not depend on today's date."""
    return time_machine.travel(datetime.fromisoformat(event["time"]), tick=False)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: Callable[[], None]
    run: Callable[[], dict[str, Any]]
    dry_run_modes: tuple[str, ...] = ("true", "false")


# ---------------------------------------------------------------- the layer on its own
def _seed_layer() -> None:
    ec2 = boto3.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    for name, exempt in (("web-1", "false"), ("web-2", "false"), ("db-legacy", "true")):
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [
                              {"Key": "Name", "Value": name},
                              {"Key": "opskit:exempt", "Value": exempt}]}])


def _tag_owner(target: Target, executor: Executor) -> TargetRun:
    """Tag every untagged instance with an owner: plan, exemption, dry-run, batching, report."""
    ec2 = target.session.client("ec2")
    plan = [
        Action(instance["InstanceId"], "ec2:instance", "tag", "no Owner tag",
               details={"Owner": "platform-team"}, tags=tags_to_dict(instance.get("Tags")))
        for page in ec2.get_paginator("describe_instances").paginate()
        for reservation in page["Reservations"]
        for instance in reservation["Instances"]
        if "Owner" not in tags_to_dict(instance.get("Tags"))
    ]

    def apply(batch: Sequence[Action]) -> None:
        ec2.create_tags(Resources=[a.resource for a in batch],
                        Tags=[{"Key": "Owner", "Value": "platform-team"}])

    executor.run(plan, apply, batch_size=50)
    return TargetRun(title=f"Owner tag for {len(plan)} instances")


def _run_layer() -> dict[str, Any]:
    return run_automation(CommonConfig.from_env("layer_demo"), _tag_owner, run_id="demo")


# ---------------------------------------------------------------- instance scheduler
_SATURDAY_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _seed_scheduler() -> None:
    ec2 = boto3.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    for name, schedule, extra in (
        ("build-agent", "mon-fri 08:00-19:00 Europe/Paris", {}),
        ("staging-api", "office-hours", {}),
        ("prod-api", "mon-fri 08:00-19:00", {"opskit:exempt": "true"}),
        ("typo", "mon-fri 8h-19h", {}),
    ):
        tags = {"Name": name, "Schedule": schedule, **extra}
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [
                              {"Key": k, "Value": v} for k, v in tags.items()]}])
    autoscaling = boto3.client("autoscaling")
    autoscaling.create_launch_configuration(LaunchConfigurationName="workers",
                                            ImageId=image, InstanceType="t3.micro")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="workers", LaunchConfigurationName="workers", MinSize=1, MaxSize=4,
        DesiredCapacity=2, AvailabilityZones=["eu-west-1a"],
        Tags=[{"Key": "Schedule", "Value": "office-hours", "PropagateAtLaunch": False}])
    boto3.client("rds").create_db_instance(
        DBInstanceIdentifier="reporting-db", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="demo_admin", MasterUserPassword="demo-only-1", AllocatedStorage=20,
        Tags=[{"Key": "Schedule", "Value": "weekdays 07:00-20:00 UTC"}])


def _run_scheduler() -> dict[str, Any]:
    os.environ["SCHEDULES"] = json.dumps({"office-hours": {
        "schedule": "mon-fri 08:00-19:00 Europe/Paris", "holidays": ["2026-12-25"]}})
    event = json.loads((EVENTS / "instance_scheduler" / "scheduler-run.json").read_text())
    with time_machine.travel(_SATURDAY_NOON, tick=False):
        result: dict[str, Any] = lambda_handler(event, DemoContext())
    return result


# ---------------------------------------------------------------- slack notifier
_WEBHOOK = "https://hooks.slack.com/services/T0DEMO/B0DEMO/demo-only-not-a-secret"
_NOTIFIER_SAMPLES = ("sqs-alarm-metric.json", "sqs-codepipeline-failed.json",
                     "eventbridge-guardduty-finding.json", "logs-subscription-errors.json",
                     "sqs-opskit-report.json")


def _seed_notifier() -> None:
    boto3.client("secretsmanager").create_secret(Name="opskit/slack-webhooks",
                                                 SecretString=_WEBHOOK)
    os.environ.update({"SLACK_WEBHOOK_SECRET": "opskit/slack-webhooks",
                       "ALARM_MENTION": "<!here>"})


def _describe(payload: dict[str, Any]) -> str:
    blocks = payload["attachments"][0]["blocks"]
    kinds = {block["type"] for block in blocks}
    link = next((b["elements"][0]["text"]["text"] for b in blocks if b["type"] == "actions"),
                "no link")
    mention = "<!here> " if payload["text"].startswith("<!here>") else ""
    return (f"{mention}{blocks[0]['text']['text']}  [{len(blocks)} blocks: "
            f"{', '.join(sorted(kinds))}; button: {link}]")


@dataclass(frozen=True)
class _SlackAnswer:
    status_code: int = 200
    headers: ClassVar[dict[str, str]] = {}
    text: str = "ok"


class _FakeSlack:
    """Stands in for the notifier's webhook session: keeps each post, answers 200 "ok"."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []

    def post(self, url: str, *, json: Any, timeout: tuple[float, float]) -> _SlackAnswer:
        if url != _WEBHOOK:
            raise RuntimeError("the demo posts to its own fake webhook only")
        self.posts.append(json)
        return _SlackAnswer()


def _run_notifier() -> dict[str, Any]:
    slack = _FakeSlack()
    real, notifier_app.http = notifier_app.http, slack
    try:
        for name in _NOTIFIER_SAMPLES:
            event = json.loads((EVENTS / "slack_notifier" / name).read_text())
            notifier_handler(event, DemoContext())
    finally:
        notifier_app.http = real
    return {"lines": [f"-> Slack: {_describe(payload)}" for payload in slack.posts]}


# ---------------------------------------------------------------- auto-tagger
def _seed_tagger() -> None:
    os.environ["REPORT_TAGGED"] = "true"  # show each tagging report (quiet by default)
    ec2 = boto3.client("ec2")
    ec2.create_volume(AvailabilityZone="eu-west-1a", Size=20)
    boto3.client("s3").create_bucket(
        Bucket="analytics-exports", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})


def _run_tagger() -> dict[str, Any]:
    volume = boto3.client("ec2").describe_volumes()["Volumes"][0]["VolumeId"]
    volume_event = json.loads((EVENTS / "auto_tagger" / "identity-sso-user.json").read_text())
    volume_event["detail"]["responseElements"]["volumeId"] = volume
    bucket_event = json.loads((EVENTS / "auto_tagger" / "s3-create-bucket.json").read_text())
    bucket_event["detail"]["requestParameters"]["bucketName"] = "analytics-exports"
    results: list[dict[str, Any]] = [tagger_handler(event, DemoContext())
                                      for event in (volume_event, bucket_event)]
    return results[-1]


# ---------------------------------------------------------------- access-key auditor
def _seed_auditor() -> None:
    """Three users whose keys are 10, 85 and 120 days old on the sample event's date."""
    iam = boto3.client("iam")
    backend: Any = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    when = datetime(2026, 11, 23, 7, 0)
    for name, days in (("app-fresh", 10), ("app-nearing", 85), ("app-overdue", 120)):
        iam.create_user(UserName=name)
        iam.create_access_key(UserName=name)
        backend.users[name].access_keys[0].create_date = when - timedelta(days=days)
    os.environ["AUDIT_MODE"] = "enforce"
    os.environ["GRACE_DAYS"] = "7"
    auditor_app.wait = lambda _: None  # type: ignore[assignment]


def _run_auditor() -> dict[str, Any]:
    event = json.loads((EVENTS / "access_key_auditor" / "daily-audit.json").read_text())
    with at_the_time_of(event):
        result: dict[str, Any] = auditor_app.lambda_handler(event, DemoContext())
    return result


# ---------------------------------------------------------------- unused-resource cleanup
def _seed_cleanup() -> None:
    """An idle volume from September, and a Lambda log group kept forever (retention is opt-in
    per prefix: the demo opts /aws/lambda/ in)."""
    ec2 = boto3.client("ec2")
    with time_machine.travel(datetime(2026, 9, 1, 12, tzinfo=UTC), tick=False):
        ec2.create_volume(AvailabilityZone="eu-west-1a", Size=100, VolumeType="gp3")
        boto3.client("logs").create_log_group(logGroupName="/aws/lambda/forgotten")
    os.environ["LOG_RETENTION_PREFIXES"] = "/aws/lambda/"


def _run_cleanup() -> dict[str, Any]:
    """Today marks; a week later (the grace period) removes what is still unused."""
    event = json.loads((EVENTS / "resource_cleanup" / "daily-cleanup.json").read_text())
    with at_the_time_of(event):
        cleanup_handler(event, DemoContext())
    week_later = {**event, "time": "2026-11-30T05:00:00Z"}
    with at_the_time_of(week_later):
        result: dict[str, Any] = cleanup_handler(week_later, DemoContext())
    return result


# ---------------------------------------------------------------- self-healing
def _seed_healing() -> None:
    """web-1, which opts in with its own tag opskit:heal=auto, behind a CPU alarm (moto has no
    alarm history: quiet)."""
    ec2 = boto3.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                 TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                     {"Key": "opskit:heal", "Value": "auto"}]}])["Instances"][0]
    os.environ["DEMO_WEB_INSTANCE"] = instance["InstanceId"]
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName="web-1-cpu-high", MetricName="CPUUtilization", Namespace="AWS/EC2",
        Statistic="Average", Period=300, EvaluationPeriods=3, Threshold=90,
        ComparisonOperator="GreaterThanThreshold")
    self_healing_guards.Guards.history = lambda self, alarm: 0  # type: ignore[method-assign]


def _run_healing() -> dict[str, Any]:
    """The alarm fires twice: a reboot, then a refusal inside the cooldown."""
    event = json.loads((EVENTS / "self_healing" / "ec2-cpu-alarm.json").read_text())
    dims = event["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"]
    dims["InstanceId"] = os.environ["DEMO_WEB_INSTANCE"]
    healing_handler(event, DemoContext())
    result: dict[str, Any] = healing_handler({**event, "time": "2026-11-23T10:50:00Z"},
                                             DemoContext())
    return result


# ---------------------------------------------------------------- RDS backup
def _seed_backup() -> None:
    rds = boto3.client("rds")
    nightly: list[Any] = [{"Key": "Backup", "Value": "nightly"}]
    rds.create_db_instance(DBInstanceIdentifier="orders", Engine="postgres",
                           DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                           MasterUsername="admin_user", MasterUserPassword="not-a-secret-1",
                           Tags=nightly)
    rds.create_db_cluster(DBClusterIdentifier="billing", Engine="aurora-postgresql",
                          MasterUsername="admin_user", MasterUserPassword="not-a-secret-1",
                          Tags=nightly)
    rds.create_db_instance(DBInstanceIdentifier="scratch", Engine="postgres",
                           DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                           MasterUsername="admin_user", MasterUserPassword="not-a-secret-1")
    # moto has no DescribeAccountAttributes: the quota read answers a fixed figure.
    quotas = {kind: Quota(40, 100) for kind in QUOTA_NAMES}
    RdsReader.quotas = lambda self: quotas  # type: ignore[method-assign]
    os.environ["DR_REGION"] = "eu-central-1"
    os.environ["REPORT_SUCCESS"] = "true"  # show the routine reports (quiet by default)


def _run_backup() -> dict[str, Any]:
    night = json.loads((EVENTS / "rds_backup" / "nightly-backup.json").read_text())
    reconcile = json.loads((EVENTS / "rds_backup" / "hourly-reconcile.json").read_text())
    with at_the_time_of(night):
        backup_handler(night, DemoContext())
    with at_the_time_of(reconcile):
        result: dict[str, Any] = backup_handler(reconcile, DemoContext())
    return result


# ---------------------------------------------------------------- public-S3 remediation
def _bucket(name: str, **settings: Any) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    if "acl" in settings:
        s3.put_bucket_acl(Bucket=name, ACL=settings["acl"])
    if "statements" in settings:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(
            {"Version": "2012-10-17", "Statement": settings["statements"]}))
    if "tags" in settings:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": settings["tags"]})


def _seed_s3() -> None:
    def public_read(bucket: str) -> dict[str, Any]:
        return {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}

    _bucket("acme-press-kit", acl="public-read")
    _bucket("acme-public-datasets", statements=[
        public_read("acme-public-datasets"),
        {"Sid": "CloudFrontOAC", "Effect": "Allow",
         "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::acme-public-datasets/*",
         "Condition": {"StringEquals": {"AWS:SourceArn":
                                        "arn:aws:cloudfront::123456789012:distribution/E2EX"}}}])
    _bucket("acme-www", statements=[public_read("acme-www")],
            tags=[{"Key": "opskit:public-access", "Value": "allow"}])
    _bucket("acme-private")


def _run_s3() -> dict[str, Any]:
    event = json.loads((EVENTS / "s3_public_remediation" / "scheduled-sweep.json").read_text())
    result: dict[str, Any] = s3_handler(event, DemoContext())
    return result


# ---------------------------------------------------------------- open-port remediation
def _seed_sg() -> None:
    os.environ["REPLACEMENT_CIDRS"] = "10.8.0.0/16"  # the VPN keeps SSH when the world loses it
    ec2 = boto3.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(GroupName="bastion", Description="bastion hosts",
                                      VpcId=vpc)["GroupId"]
    world, world6 = [{"CidrIp": "0.0.0.0/0"}], [{"CidrIpv6": "::/0"}]
    permissions: list[Any] = [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": world},
        {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "Ipv6Ranges": world6},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": world},
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
         "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "partner feed opskit:allow"}]}]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=permissions)


def _run_sg() -> dict[str, Any]:
    event = json.loads((EVENTS / "sg_open_port_remediation" / "scheduled-sweep.json").read_text())
    result: dict[str, Any] = sg_handler(event, DemoContext())
    return result


# ---------------------------------------------------------------- IAM policy guard
def _seed_iam_guard() -> None:
    """A service role someone gave `*` on `*` "for debugging", as the sample event records; the
    role asks to be remediated with its own tag."""
    event = json.loads((EVENTS / "iam_policy_guard" / "put-role-policy.json").read_text())
    parameters = event["detail"]["requestParameters"]
    iam = boto3.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "lambda.amazonaws.com"}}]}
    iam.create_role(RoleName=parameters["roleName"], AssumeRolePolicyDocument=json.dumps(trust),
                    Tags=[{"Key": "opskit:iam-guard", "Value": "remediate"}])
    iam.put_role_policy(RoleName=parameters["roleName"], PolicyName=parameters["policyName"],
                        PolicyDocument=parameters["policyDocument"])


def _run_iam_guard() -> dict[str, Any]:
    """The PutRolePolicy call arrives: dry run reports the full admin grant; live, the inline
    policy is deleted and its document kept in the report to put it back."""
    event = json.loads((EVENTS / "iam_policy_guard" / "put-role-policy.json").read_text())
    with at_the_time_of(event):
        result: dict[str, Any] = iam_guard_handler(event, DemoContext())
    return result


# ---------------------------------------------------------------- deployment guard
class _PipelineAnswers:
    """moto has no CodePipeline job results: a before-call hook takes the answer instead."""

    answered: ClassVar[list[str]] = []

    def __call__(self, model: Any = None, **_: Any) -> Any:
        if model is None or model.name not in ("PutJobSuccessResult", "PutJobFailureResult"):
            return None
        self.answered.append(model.name)
        raw: Any = type("Raw", (), {"stream": lambda self, **__: iter([b"{}"])})()
        headers: Any = {}
        return (AWSResponse("https://codepipeline.invalid/", 200, headers, raw),
                {"ResponseMetadata": {"HTTPStatusCode": 200}})


def _seed_guard() -> None:
    """orders-api's error alarm (OK) and its checks in SSM, as the pipeline's stage names them."""
    cloudwatch = boto3.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="orders-api-errors", Namespace="AWS/Lambda", MetricName="Errors",
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold")
    cloudwatch.set_alarm_state(AlarmName="orders-api-errors", StateValue="OK",
                               StateReason="no errors since the deployment")
    boto3.client("ssm").put_parameter(
        Name="/opskit/deploy-guard/orders-api/production", Type="String",
        Value=json.dumps({"checks": [{"type": "alarms", "name": "errors stay OK",
                                      "alarm_names": ["orders-api-errors"]}]}))
    botocore.handlers.BUILTIN_HANDLERS.insert(
        0, ("before-call.codepipeline.*", _PipelineAnswers()))


def _run_guard() -> dict[str, Any]:
    """The pipeline's post-deployment stage invokes the guard: the alarm is OK, the job
    succeeds."""
    event = json.loads((EVENTS / "deploy_guard" / "codepipeline-job.json").read_text())
    result: dict[str, Any] = guard_handler(event, DemoContext())
    return result


# ---------------------------------------------------------------- log shipper
_LOG_BUCKET = "opskit-logs-123456789012-eu-west-1"


def _seed_shipper() -> None:
    """The bucket and its key; orders-api's log group, tagged to be shipped."""
    key = boto3.client("kms").create_key(Description="shipped logs")["KeyMetadata"]["Arn"]
    boto3.client("s3").create_bucket(
        Bucket=_LOG_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    os.environ.update({"LOG_BUCKET": _LOG_BUCKET, "LOG_KMS_KEY_ARN": key,
                       "MASKED_FIELDS": "$.user.email"})
    boto3.client("logs").create_log_group(logGroupName="/aws/lambda/orders-api",
                                          tags={"opskit:ship-logs": "true"})


def _run_shipper() -> dict[str, Any]:
    """The hourly run plans the subscription (dry run); two deliveries are shipped (DryRun does
    not apply to shipping): a Lambda invocation, and text logs across two hours."""
    schedule = json.loads((EVENTS / "log_shipper" / "reconcile-schedule.json").read_text())
    with at_the_time_of(schedule):
        shipper_handler(schedule, DemoContext())
    lines = []
    s3 = boto3.client("s3")
    for name in ("lambda-invocation.json", "app-text-logs.json"):
        event = json.loads((EVENTS / "log_shipper" / name).read_text())
        result: dict[str, Any] = shipper_handler(event, DemoContext())
        lines.append(f"{name}: {result['events']} events -> {len(result['objects'])} object(s)")
        for key in result["objects"]:
            lines.append(f"  s3://{_LOG_BUCKET}/{key}")
            body = s3.get_object(Bucket=_LOG_BUCKET, Key=key)["Body"].read()
            for line in gzip.decompress(body).splitlines():
                lines.append(f"    {_describe_record(json.loads(line))}")
    return {"lines": lines}


def _describe_record(record: dict[str, Any]) -> str:
    kind = record["kind"]
    if kind == "lambda_report":
        init = record["init_duration_ms"]
        return (f"{kind}: {record['duration_ms']} ms, billed {record['billed_duration_ms']} ms, "
                f"{record['max_memory_used_mb']:.0f}/{record['memory_size_mb']:.0f} MB"
                f"{f', init {init} ms' if init else ''}")
    if kind == "json":
        user = json.loads(record["fields"]).get("user")
        return (f"json {record['level']}: {record['message']}"
                f"{f' (user {json.dumps(user)})' if user else ''}")
    return f"{kind} {record['level'] or '-'}: {record['message'][:90]}"


SCENARIOS: list[Scenario] = [
    Scenario("layer_demo", "the shared layer on its own (plan, exemption, dry-run, report)",
             _seed_layer, _run_layer),
    Scenario("instance_scheduler", "Saturday noon: office-hours resources should be off",
             _seed_scheduler, _run_scheduler),
    Scenario("auto_tagger", "a volume made by an SSO user and a bucket made by alice get tagged",
             _seed_tagger, _run_tagger),
    Scenario("s3_public_remediation", "daily sweep: a public ACL and a public statement are "
             "closed, the OAC statement and the allowed website stay", _seed_s3, _run_s3),
    Scenario("sg_open_port_remediation", "daily sweep: SSH and RDP open to the world are revoked "
             "(SSH moves to the VPN range), HTTPS and the marked rule stay", _seed_sg, _run_sg),
    Scenario("rds_backup", "nightly snapshots of the tagged instance and Aurora cluster, then "
             "the reconcile copies them to the DR region", _seed_backup, _run_backup),
    Scenario("access_key_auditor", "enforce mode: a 120-day key is deactivated, an 85-day one "
             "gets a warning, a 10-day one is left alone", _seed_auditor, _run_auditor),
    Scenario("resource_cleanup", "an idle volume is marked, then removed a week later; a "
             "Lambda log group kept forever gets a retention", _seed_cleanup, _run_cleanup),
    Scenario("self_healing", "a CPU alarm reboots web-1; the same alarm 8 minutes later is "
             "refused by the cooldown", _seed_healing, _run_healing),
    Scenario("iam_policy_guard", "a role is given * on * for debugging: reported, then (the role "
             "asks for remediation) its inline policy is deleted, the document kept to undo",
             _seed_iam_guard, _run_iam_guard),
    Scenario("deploy_guard", "a pipeline's post-deployment stage: the error alarm stays OK, "
             "so the job succeeds", _seed_guard, _run_guard),
    Scenario("log_shipper", "orders-api's logs parsed into the S3 layout Athena reads (an "
             "e-mail masked); the hourly run plans the subscription", _seed_shipper,
             _run_shipper, dry_run_modes=("true",)),
    Scenario("slack_notifier", "sample alarms, events, log errors and a report, to a fake Slack",
             _seed_notifier, _run_notifier, dry_run_modes=("n/a",)),
]
