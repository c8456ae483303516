"""Record shapes the tagger meets besides the usual: no resource named, a null response whose
request names the resource, an account or region that is not one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from auto_tagger.resources import ResourceRef, resources_of
from opskit.cloudtrail import parse_api_call
from tests.auto_tagger.conftest import handle
from tests.cloudtrail import ACCOUNT, api_call
from tests.conftest import ApiCalls, FakeLambdaContext, load_event

EVENT_ID = "e1d2c3b4-a596-4877-8a9b-0c1d2e3f4a5b"  # tests.cloudtrail's eventID
EXPECTED = {"opskit:creator-arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "opskit:creator": "alice", "opskit:created-at": "2026-11-23T09:15:02Z",
            "opskit:cloudtrail-event-id": EVENT_ID}
NO_CHANGE = {"done": 0, "planned": 0, "skipped": 0, "failed": 0}




def logged(caplog: pytest.LogCaptureFixture, message: str) -> list[dict[str, Any]]:
    """The log lines with this message, as their fields (level, extra keys)."""
    return [{"level": record.levelname, **vars(record)} for record in caplog.records
            if record.getMessage() == message]


# ---------------------------------------------------------------- 1. no resource named

NAMES_NOTHING = {
    # responseElements null, and the request cannot name a volume (its id is AWS's).
    "null-response": api_call("CreateVolume", "ec2", request={"size": 8, "zone": "eu-west-1a"},
                              response=None),
    # An older shape: the NAT gateway without the CreateNatGatewayResponse wrapper.
    "older-shape": api_call("CreateNatGateway", "ec2",
                            request={"subnetId": "subnet-0a1b2c3d4e5f60718"},
                            response={"natGateway": {"natGatewayId": "nat-0f1e2d3c4b5a69788"}}),
    # An ELB v2 record without its loadBalancers list.
    "elbv2-no-list": api_call("CreateLoadBalancer", "elasticloadbalancing",
                              request={"name": "web", "type": "application"},
                              response={"loadBalancers": []}),
    # A queue's URL cannot be made from its name: no fallback.
    "queue-null-response": api_call("CreateQueue", "sqs", request={"queueName": "orders"},
                                    response=None),
    # A function named by ARN in the request: not guessed from.
    "function-arn-in-request": api_call(
        "CreateFunction20150331", "lambda", response=None,
        request={"functionName": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:fn"}),
}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("case", list(NAMES_NOTHING))
def test_a_record_naming_no_resource_is_warned_and_reported(
        case: str, lambda_context: FakeLambdaContext, api_calls: ApiCalls,
        reports: list[dict[str, Any]], caplog: pytest.LogCaptureFixture) -> None:
    event = NAMES_NOTHING[case]
    name = event["detail"]["eventName"]
    api_calls.reset()
    result = handle(event, lambda_context)
    assert result["counts"] == NO_CHANGE
    assert result["failed_targets"] == []
    (report,) = reports
    assert report["severity"] == "warning"
    assert report["title"] == f"{name} record {EVENT_ID} names no resource: nothing tagged"
    assert report["event"] == {"name": name, "id": EVENT_ID}
    assert report["actions"] == []
    # Nothing read or written: only who we are.
    assert api_calls.total == api_calls.of("sts", "GetCallerIdentity")
    (warning,) = logged(caplog, "no resource named in the record")
    assert warning["level"] == "WARNING"
    assert (warning["event_name"], warning["event_id"]) == (name, EVENT_ID)


@pytest.mark.usefixtures("aws")
def test_a_classic_load_balancer_is_skipped_not_warned(lambda_context: FakeLambdaContext,
                                                       api_calls: ApiCalls,
                                                       reports: list[dict[str, Any]]) -> None:
    api_calls.reset()
    result = handle(api_call("CreateLoadBalancer", "elasticloadbalancing",
                             request={"loadBalancerName": "web", "listeners": []},
                             response={"dNSName": "web-1234567890.eu-west-1.elb.amazonaws.com"}),
                    lambda_context)
    assert result["skipped"] == "a Classic Load Balancer is not supported"
    assert (reports, api_calls.total) == ([], 0)


def test_the_warning_report_is_published(lambda_context: FakeLambdaContext, alert_inbox: Any,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    handle(load_event("auto_tagger/warn-no-resource-named.json"), lambda_context)
    (report,) = alert_inbox.received()  # published although REPORT_TAGGED is off
    assert report["severity"] == "warning"
    assert report["title"] == ("CreateVolume record 7c3f1e5a-9d2b-4a86-b0e4-5f1d8c2a6e97 names "
                               "no resource: nothing tagged")


# ---------------------------------------------------------------- 2. named by the request

def _user() -> tuple[dict[str, Any], Callable[[], dict[str, str]]]:
    iam = boto3.client("iam")
    iam.create_user(UserName="bob")
    return ({"userName": "bob"},
            lambda: {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="bob")["Tags"]})


def _role() -> tuple[dict[str, Any], Callable[[], dict[str, str]]]:
    iam = boto3.client("iam")
    iam.create_role(RoleName="app-role", AssumeRolePolicyDocument="{}")
    return ({"roleName": "app-role", "assumeRolePolicyDocument": "{}"},
            lambda: {t["Key"]: t["Value"] for t in
                     iam.list_role_tags(RoleName="app-role")["Tags"]})


def _rds_tags(arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in
            boto3.client("rds").list_tags_for_resource(ResourceName=arn)["TagList"]}


def _db_instance() -> tuple[dict[str, Any], Callable[[], dict[str, str]]]:
    arn = boto3.client("rds").create_db_instance(
        DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="u", MasterUserPassword="password-1", AllocatedStorage=20)[
        "DBInstance"]["DBInstanceArn"]
    return ({"dBInstanceIdentifier": "orders-db", "engine": "postgres"},
            lambda: _rds_tags(arn))


def _db_snapshot() -> tuple[dict[str, Any], Callable[[], dict[str, str]]]:
    rds = boto3.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="u", MasterUserPassword="password-1", AllocatedStorage=20)
    arn = rds.create_db_snapshot(DBSnapshotIdentifier="orders-db-before-migration",
                                 DBInstanceIdentifier="orders-db")["DBSnapshot"]["DBSnapshotArn"]
    return ({"dBSnapshotIdentifier": "orders-db-before-migration",
             "dBInstanceIdentifier": "orders-db"}, lambda: _rds_tags(arn))


def _table() -> tuple[dict[str, Any], Callable[[], dict[str, str]]]:
    ddb = boto3.client("dynamodb")
    arn = ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST",
                           KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])[
        "TableDescription"]["TableArn"]
    return ({"tableName": "orders"},
            lambda: {t["Key"]: t["Value"] for t in
                     ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]})


def _topic() -> tuple[dict[str, Any], Callable[[], dict[str, str]]]:
    sns = boto3.client("sns")
    arn = sns.create_topic(Name="orders-events")["TopicArn"]
    return ({"name": "orders-events"},
            lambda: {t["Key"]: t["Value"] for t in
                     sns.list_tags_for_resource(ResourceArn=arn)["Tags"]})


def _function() -> tuple[dict[str, Any], Callable[[], dict[str, str]]]:
    role = boto3.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")[
        "Role"]["Arn"]
    lam = boto3.client("lambda")
    arn = lam.create_function(FunctionName="orders-ingest", Runtime="python3.13", Role=role,
                              Handler="a.b", Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})[
        "FunctionArn"]
    return ({"functionName": "orders-ingest", "runtime": "python3.13", "role": role},
            lambda: dict(lam.list_tags(Resource=arn)["Tags"]))


REQUEST_NAMED = {
    "CreateUser": ("iam", _user), "CreateRole": ("iam", _role),
    "CreateDBInstance": ("rds", _db_instance), "CreateDBSnapshot": ("rds", _db_snapshot),
    "CreateTable": ("dynamodb", _table), "CreateTopic": ("sns", _topic),
    "CreateFunction20150331": ("lambda", _function),
}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("name", list(REQUEST_NAMED))
def test_a_null_response_falls_back_to_the_name_in_the_request(
        name: str, lambda_context: FakeLambdaContext) -> None:
    source, create = REQUEST_NAMED[name]
    request, read_tags = create()
    region = "us-east-1" if source == "iam" else "eu-west-1"  # IAM records arrive in us-east-1
    result = handle(api_call(name, source, request=request, response=None, region=region),
                    lambda_context)
    assert result["counts"]["done"] == 1, result
    assert read_tags() == EXPECTED


@pytest.mark.usefixtures("aws")
def test_the_null_response_sample_is_tagged(lambda_context: FakeLambdaContext) -> None:
    boto3.client("iam").create_user(UserName="bob")
    result = handle(load_event("auto_tagger/iam-create-user-null-response.json"), lambda_context)
    assert result["counts"]["done"] == 1
    tags = boto3.client("iam").list_user_tags(UserName="bob")["Tags"]
    assert {t["Key"]: t["Value"] for t in tags}["opskit:creator"] == "alice"


@pytest.mark.parametrize(("name", "request_", "region", "expected"), [
    # RDS keeps its identifiers in lowercase; the ARN is the record's account and region.
    ("CreateDBCluster", {"dBClusterIdentifier": "Orders-Aurora"}, "eu-west-1",
     "arn:aws:rds:eu-west-1:123456789012:cluster:orders-aurora"),
    ("CreateDBSnapshot", {"dBSnapshotIdentifier": "Nightly-1"}, "cn-north-1",
     "arn:aws-cn:rds:cn-north-1:123456789012:snapshot:nightly-1"),
    ("CreateTopic", {"name": "orders.fifo"}, "us-gov-west-1",
     "arn:aws-us-gov:sns:us-gov-west-1:123456789012:orders.fifo"),
    ("CreateTable", {"tableName": "orders"}, "eu-west-3",
     "arn:aws:dynamodb:eu-west-3:123456789012:table/orders"),
    ("CreateRole", {"roleName": "app-role"}, "us-east-1", "app-role"),
])
def test_the_request_name_becomes_the_resource_of_the_records_account_and_region(
        name: str, request_: dict[str, Any], region: str, expected: str) -> None:
    source = {"CreateDBCluster": "rds", "CreateDBSnapshot": "rds", "CreateTopic": "sns",
              "CreateTable": "dynamodb", "CreateRole": "iam"}[name]
    call = parse_api_call(api_call(name, source, request=request_, response=None, region=region))
    assert [ref.id for ref in resources_of(call)] == [expected]


def test_the_response_wins_over_the_request() -> None:
    call = parse_api_call(api_call("CreateUser", "iam", request={"userName": "asked"},
                                   response={"user": {"userName": "made"}}, region="us-east-1"))
    assert resources_of(call) == [ResourceRef("iam-user", "made")]


# ---------------------------------------------------------------- 3. account and region

def _without(field: str) -> Callable[[dict[str, Any]], None]:
    def edit(event: dict[str, Any]) -> None:
        del event["detail"][field]
    return edit


def _detail(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(event: dict[str, Any]) -> None:
        event["detail"][field] = value
    return edit


def _both(*edits: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def edit(event: dict[str, Any]) -> None:
        for one in edits:
            one(event)
    return edit


def _envelope(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(event: dict[str, Any]) -> None:
        event[field] = value
    return edit


BAD_PLACE = {
    "short-account": (_detail("recipientAccountId", "12345678901"),
                      "detail.recipientAccountId='12345678901' is invalid: "
                      "expected a 12-digit account id"),
    "account-with-letters": (_detail("recipientAccountId", "12345678901a"),
                             "detail.recipientAccountId='12345678901a'"),
    "account-as-number": (_detail("recipientAccountId", 123456789012),
                          "detail.recipientAccountId=123456789012"),
    "region-not-a-region": (_detail("awsRegion", "global"),
                            "detail.awsRegion='global' is invalid: "
                            "expected a region such as eu-west-1"),
    "region-uppercase": (_detail("awsRegion", "EU-WEST-1"), "detail.awsRegion='EU-WEST-1'"),
    "region-hostile": (_detail("awsRegion", "eu-west-1/../x"), "detail.awsRegion="),
    "envelope-account-when-record-has-none": (
        _both(_without("recipientAccountId"), _envelope("account", "1234")),
        "account='1234' is invalid: expected a 12-digit account id"),
    "envelope-region-when-record-has-none": (
        _both(_without("awsRegion"), _envelope("region", "")),
        "region='' is invalid: expected a region such as eu-west-1"),
    "no-account-anywhere": (_both(_without("recipientAccountId"), _envelope("account", None)),
                            "account=None is invalid"),
}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("case", list(BAD_PLACE))
def test_an_account_or_region_that_is_not_one_is_a_malformed_record(
        case: str, lambda_context: FakeLambdaContext, api_calls: ApiCalls,
        reports: list[dict[str, Any]], caplog: pytest.LogCaptureFixture) -> None:
    edit, message = BAD_PLACE[case]
    event = api_call("CreateVolume", "ec2", response={"volumeId": "vol-0123456789abcdef0"})
    edit(event)
    api_calls.reset()
    result = handle(event, lambda_context)
    assert result["skipped"].startswith(f"malformed: {message}")
    assert result["counts"] == NO_CHANGE
    assert "failed_targets" not in result
    assert reports == []
    assert api_calls.total == 0  # no AssumeRole, no GetCallerIdentity, no tag read
    (warning,) = logged(caplog, "malformed CloudTrail event")
    assert warning["level"] == "WARNING"
    assert warning["error"].startswith(message)
    assert warning["event_id"] == EVENT_ID


@pytest.mark.usefixtures("aws")
def test_the_envelope_still_serves_a_record_without_account_and_region(
        lambda_context: FakeLambdaContext) -> None:
    volume = boto3.client("ec2").create_volume(AvailabilityZone="eu-west-1a", Size=8)["VolumeId"]
    event = api_call("CreateVolume", "ec2", response={"volumeId": volume})
    del event["detail"]["recipientAccountId"], event["detail"]["awsRegion"]
    result = handle(event, lambda_context)
    assert result["counts"]["done"] == 1
    assert result["targets"][0]["account"] == ACCOUNT
    assert result["targets"][0]["region"] == "eu-west-1"
