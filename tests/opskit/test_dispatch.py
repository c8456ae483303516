"""Organization-scale targets and dispatch mode: discovery, fan-out, one target per message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import time_machine

from instance_scheduler import app
from opskit.aws import target_pairs
from opskit.config import CommonConfig, ConfigError
from opskit.dispatch import SCHEMA, message
from tests.conftest import FakeLambdaContext, load_event
from tests.instance_scheduler.seed import make_instances

EVENT = load_event("instance_scheduler/scheduler-run.json")  # Monday 07:05 UTC: stop time
HOME = "123456789012"


def config(**env: str) -> CommonConfig:
    return CommonConfig.from_env("test", {"AWS_REGION": "eu-west-1", **env})


@pytest.fixture
def organization() -> dict[str, Any]:
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    prod = org.create_organizational_unit(ParentId=root, Name="prod")["OrganizationalUnit"]["Id"]
    team = org.create_organizational_unit(ParentId=prod, Name="team-a")["OrganizationalUnit"]["Id"]
    ids = {}
    for name, parent in (("shop", prod), ("search", team), ("sandbox", root)):
        account = org.create_account(AccountName=name, Email=f"{name}@example.com")
        account_id = account["CreateAccountStatus"]["AccountId"]
        if parent != root:
            org.move_account(AccountId=account_id, SourceParentId=root,
                             DestinationParentId=parent)
        ids[name] = account_id
    return {"prod": prod, "team": team, **ids}


@pytest.mark.usefixtures("aws")
def test_organization_means_every_active_account(organization: dict[str, Any]) -> None:
    pairs = target_pairs(config(TARGET_ACCOUNTS="organization"), HOME)
    accounts = {account for account, _ in pairs}
    assert {organization["shop"], organization["search"], organization["sandbox"]} <= accounts
    assert {region for _, region in pairs} == {"eu-west-1"}


@pytest.mark.usefixtures("aws")
def test_an_ou_means_its_accounts_and_those_of_the_ous_below(
        organization: dict[str, Any]) -> None:
    pairs = target_pairs(config(TARGET_ACCOUNTS=organization["prod"]), HOME)
    assert sorted(account for account, _ in pairs) == sorted(
        [organization["shop"], organization["search"]])


@pytest.mark.usefixtures("aws")
def test_all_regions_means_the_regions_enabled_in_the_account() -> None:
    pairs = target_pairs(config(TARGET_REGIONS="all"), HOME)
    regions = [region for _, region in pairs]
    assert "eu-west-1" in regions
    assert "us-east-1" in regions
    assert len(regions) == len(set(regions)) > 10


@pytest.mark.parametrize(("env", "message_part"), [
    ({"TARGET_ACCOUNTS": "everyone"}, "expected 12-digit account ids, organization, or OU ids"),
    ({"TARGET_REGIONS": "everywhere"}, "expected region names such as eu-west-1, or all"),
    ({"DISPATCH_QUEUE_URL": "queue"}, "DISPATCH_QUEUE_URL='queue' is invalid"),
])
def test_bad_target_settings_are_refused(env: dict[str, str], message_part: str) -> None:
    with pytest.raises(ConfigError, match=message_part):
        config(**env)


def _queue() -> str:
    return str(boto3.client("sqs").create_queue(QueueName="instance-scheduler-work")["QueueUrl"])


@pytest.fixture
def at_the_event_time() -> Iterator[None]:
    """The scheduler reads the clock: the whole test, from the instances to the messages it reads,
    runs at the sample event's time (Monday 07:05 UTC), never partly at the real date."""
    with time_machine.travel(datetime(2026, 11, 23, 7, 5, tzinfo=UTC)):
        yield


def _handle(event: dict[str, Any], context: FakeLambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(event, context)
    return result


@pytest.mark.usefixtures("aws", "at_the_event_time")
def test_dispatch_mode_sends_one_message_per_target_and_changes_nothing(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    queue = _queue()
    monkeypatch.setenv("DISPATCH_QUEUE_URL", queue)
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("TARGET_REGIONS", "eu-west-1,us-east-2,eu-central-1")
    with time_machine.travel(datetime(2026, 11, 20, tzinfo=UTC), tick=False):
        ids = make_instances(2)
    result = _handle(EVENT, lambda_context)
    assert result["dispatched"] == 3
    sqs = boto3.client("sqs")
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]]
    assert sorted((b["account"], b["region"]) for b in bodies) == [
        (HOME, "eu-central-1"), (HOME, "eu-west-1"), (HOME, "us-east-2")]
    assert {b["schema"] for b in bodies} == {SCHEMA}
    states = boto3.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    assert {i["State"]["Name"] for r in states for i in r["Instances"]} == {"running"}


@pytest.mark.usefixtures("aws", "at_the_event_time")
def test_a_worker_runs_each_message_for_its_target_and_reports_only_failed_ones(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    from opskit.aws import SessionFactory

    monkeypatch.setenv("DISPATCH_QUEUE_URL", _queue())
    monkeypatch.setenv("DRY_RUN", "false")
    with time_machine.travel(datetime(2026, 11, 20, tzinfo=UTC), tick=False):
        ids = make_instances(2)
    real = SessionFactory.session_for

    def session_for(self: SessionFactory, account: str, region: str) -> Any:
        if account == "222222222222":  # the member role is missing there
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}},
                              "AssumeRole")
        return real(self, account, region)

    monkeypatch.setattr(SessionFactory, "session_for", session_for)

    def record(message_id: str, body: str) -> dict[str, Any]:
        return {"messageId": message_id, "receiptHandle": "r", "body": body,
                "eventSource": "aws:sqs", "attributes": {}, "messageAttributes": {},
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:instance-scheduler-work"}

    batch = {"Records": [
        record("good", message("instance_scheduler", HOME, "eu-west-1", EVENT)),
        record("no-role", message("instance_scheduler", "222222222222", "eu-west-1", EVENT)),
        record("garbled", '{"schema": "something else"}'),
    ]}
    result = _handle(batch, lambda_context)
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == [
        "garbled", "no-role"]
    states = boto3.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    assert {i["State"]["Name"] for r in states for i in r["Instances"]} == {"stopped"}


@pytest.mark.usefixtures("aws", "at_the_event_time")
def test_a_target_that_keeps_failing_ends_in_the_dead_letter_queue(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue's redrive (as the template sets it) with the worker's partial failures."""
    from botocore.exceptions import ClientError

    from opskit.aws import SessionFactory

    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="work-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    work = sqs.create_queue(QueueName="work", Attributes={
        "VisibilityTimeout": "0",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})})[
        "QueueUrl"]
    monkeypatch.setenv("DISPATCH_QUEUE_URL", work)

    def denied(self: SessionFactory, account: str, region: str) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no role"}}, "AssumeRole")

    monkeypatch.setattr(SessionFactory, "session_for", denied)
    sqs.send_message(QueueUrl=work, MessageBody=message("instance_scheduler", "222222222222",
                                                        "eu-west-1", EVENT))
    attempts = 0
    while True:  # what the SQS event source mapping does
        received = sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=1).get("Messages", [])
        if not received:
            break
        attempts += 1
        record = {"messageId": received[0]["MessageId"], "body": received[0]["Body"],
                  "eventSource": "aws:sqs", "receiptHandle": received[0]["ReceiptHandle"]}
        result = _handle({"Records": [record]}, lambda_context)
        if not result["batchItemFailures"]:
            sqs.delete_message(QueueUrl=work, ReceiptHandle=received[0]["ReceiptHandle"])
        assert attempts < 5
    assert attempts == 2
    (dead,) = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(dead["Body"])["account"] == "222222222222"
