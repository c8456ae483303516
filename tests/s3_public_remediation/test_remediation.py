"""The remediation on moto: what is closed, what is kept, what is left alone, and the calls."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from s3_public_remediation import app
from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext, load_event
from tests.s3_public_remediation.seed import (
    ALL_USERS,
    AUTHENTICATED,
    LOG_DELIVERY,
    OWN_ROLE,
    cloudfront_oac,
    make_bucket,
    public_read,
    sample_buckets,
)

ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
          "RestrictPublicBuckets": True}
ALL_OFF = dict.fromkeys(ALL_ON, False)
READS = ("GetPublicAccessBlock", "GetBucketAcl", "GetBucketPolicy", "GetBucketTagging",
         "GetBucketOwnershipControls", "ListBuckets")


@pytest.fixture(autouse=True)
def _live(monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    monkeypatch.setenv("OWN_ROLE_NAME", OWN_ROLE)


def handle(event: dict[str, Any], context: FakeLambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(event, context)
    return result


def bucket_event(name: str, bucket: str) -> dict[str, Any]:
    event = load_event(f"s3_public_remediation/{name}.json")
    event["detail"]["requestParameters"]["bucketName"] = bucket
    return event


def grants(bucket: str) -> list[str]:
    return sorted(g["Grantee"].get("URI", g["Grantee"].get("Type", "?"))
                  for g in boto3.client("s3").get_bucket_acl(Bucket=bucket)["Grants"])


def block(bucket: str) -> dict[str, bool]:
    s3 = boto3.client("s3")
    try:
        return dict(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"])
    except s3.exceptions.ClientError:
        return ALL_OFF


def policy(bucket: str) -> dict[str, Any] | None:
    s3 = boto3.client("s3")
    try:
        return dict(json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]))
    except s3.exceptions.ClientError:
        return None


def mutations(api_calls: ApiCalls) -> list[str]:
    return sorted(op for (svc, op), n in api_calls.counts.items() for _ in range(n)
                  if svc == "s3" and op not in READS)


def test_public_acl_is_stripped_and_block_public_access_turned_on(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    make_bucket("acme-press-kit", grants=(ALL_USERS, LOG_DELIVERY))
    api_calls.reset()
    result = handle(load_event("s3_public_remediation/put-bucket-acl-public-read.json"),
                    lambda_context)
    assert result["counts"] == {"done": 2, "planned": 0, "skipped": 0, "failed": 0}
    assert grants("acme-press-kit") == ["CanonicalUser", LOG_DELIVERY]
    assert block("acme-press-kit") == ALL_ON
    assert mutations(api_calls) == ["PutBucketAcl", "PutPublicAccessBlock"]
    (report,) = alert_inbox.received()
    assert report["title"] == "Closed public access on 1 S3 bucket(s): acme-press-kit"
    assert report["severity"] == "warning"
    assert report["trigger"]["by"].endswith("jane.doe@example.com")
    by_action = {a["action"]: a for a in report["actions"]}
    assert by_action["remove-public-acl-grants"]["reason"] == "ACL grants READ to AllUsers"
    assert by_action["remove-public-acl-grants"]["details"]["removed_grants"] == [
        {"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"}]
    assert by_action["block-public-access"]["details"]["before"] == ALL_OFF


def test_only_public_statements_leave_the_policy(lambda_context: FakeLambdaContext,
                                                 alert_inbox: AlertInbox) -> None:
    oac = cloudfront_oac("acme-public-datasets")
    make_bucket("acme-public-datasets", statements=[public_read("acme-public-datasets"), oac])
    handle(load_event("s3_public_remediation/put-bucket-policy-public.json"), lambda_context)
    assert policy("acme-public-datasets") == {"Version": "2012-10-17", "Statement": [oac]}
    assert block("acme-public-datasets") == ALL_ON
    (report,) = alert_inbox.received()
    strip = next(a for a in report["actions"] if a["action"] == "remove-public-policy-statements")
    assert strip["reason"] == ("policy statement 'PublicRead' allows Principal \"*\" "
                               "s3:GetObject with no narrowing condition")
    assert strip["details"]["removed_statements"] == [public_read("acme-public-datasets")]
    assert strip["details"]["kept_statements"] == 1


def test_a_policy_left_empty_is_deleted(lambda_context: FakeLambdaContext,
                                        alert_inbox: AlertInbox) -> None:
    make_bucket("open", statements=[public_read("open")])
    result = handle(bucket_event("put-bucket-policy-public", "open"), lambda_context)
    assert result["counts"]["done"] == 2
    assert policy("open") is None
    (report,) = alert_inbox.received()
    strip = next(a for a in report["actions"] if a["action"] == "remove-public-policy-statements")
    assert strip["details"]["policy_header"] == {"Version": "2012-10-17"}


def test_dry_run_title_counts_only_buckets_it_would_close(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    make_bucket("closable", grants=(ALL_USERS,))
    make_bucket("watched", grants=(ALL_USERS,), tags={"opskit:public-access": "report"})
    handle(load_event("s3_public_remediation/scheduled-sweep.json"), lambda_context)
    (report,) = alert_inbox.received()
    assert report["title"] == ("Would close public access on 1 S3 bucket(s), 1 still public: "
                               "closable, watched")


def test_dry_run_plans_the_exact_change_and_changes_nothing(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    make_bucket("acme-public-datasets", grants=(AUTHENTICATED,),
                statements=[public_read("acme-public-datasets")])
    api_calls.reset()
    result = handle(load_event("s3_public_remediation/put-bucket-policy-public.json"),
                    lambda_context)
    assert result["counts"] == {"done": 0, "planned": 3, "skipped": 0, "failed": 0}
    assert mutations(api_calls) == []
    assert policy("acme-public-datasets") is not None
    (report,) = alert_inbox.received()
    assert report["title"] == "Would close public access on 1 S3 bucket(s): acme-public-datasets"
    assert report["severity"] == "critical"
    assert [a["action"] for a in report["actions"]] == [
        "remove-public-acl-grants", "remove-public-policy-statements", "block-public-access"]
    assert report["still_public"] == ["acme-public-datasets"]


def test_bucket_owner_enforced_buckets_never_get_put_bucket_acl(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    # Enforced ownership ignores ACLs, so only the policy can make such a bucket public.
    make_bucket("enforced", ownership="BucketOwnerEnforced", statements=[public_read("enforced")])
    api_calls.reset()
    handle(bucket_event("put-bucket-policy-public", "enforced"), lambda_context)
    assert mutations(api_calls) == ["DeleteBucketPolicy", "PutPublicAccessBlock"]


def test_account_block_public_access_neutralises_everything_in_one_read(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls, alert_inbox: AlertInbox) -> None:
    make_bucket("acme-press-kit", grants=(ALL_USERS,), statements=[public_read("acme-press-kit")])
    boto3.client("s3control").put_public_access_block(
        AccountId="123456789012", PublicAccessBlockConfiguration=ALL_ON)  # type: ignore[arg-type]
    api_calls.reset()
    result = handle(load_event("s3_public_remediation/put-bucket-acl-public-read.json"),
                    lambda_context)
    assert result["counts"] == {"done": 0, "planned": 0, "skipped": 0, "failed": 0}
    assert api_calls.of("s3") == 0
    assert api_calls.of("s3control") == api_calls.of("s3control", "GetPublicAccessBlock") == 1
    assert alert_inbox.received() == []


@pytest.mark.parametrize(("settings", "public"), [
    ({"IgnorePublicAcls": True}, ["policy"]),
    ({"RestrictPublicBuckets": True}, ["acl"]),
    # Blocking new public ACLs/policies does not neutralise the existing ones.
    ({"BlockPublicAcls": True, "BlockPublicPolicy": True}, ["acl", "policy"]),
])
def test_each_block_setting_neutralises_only_what_it_covers(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox, settings: dict[str, bool], public: list[str]) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    make_bucket("mixed", grants=(ALL_USERS,), statements=[public_read("mixed")],
                block={**ALL_OFF, **settings})
    handle(bucket_event("put-bucket-acl-public-read", "mixed"), lambda_context)
    (report,) = alert_inbox.received()
    found = {"acl": "remove-public-acl-grants", "policy": "remove-public-policy-statements"}
    assert public == [kind for kind, action in found.items()
                      if action in {a["action"] for a in report["actions"]}]


def test_exempt_allow_listed_and_report_only_buckets(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    monkeypatch.setenv("ALLOWED_PUBLIC_BUCKETS", "www-*")
    make_bucket("exempt", grants=(ALL_USERS,), tags={"opskit:exempt": "true"})
    make_bucket("www-acme", statements=[public_read("www-acme")])
    make_bucket("site", statements=[public_read("site")], tags={"opskit:public-access": "allow"})
    make_bucket("watched", grants=(ALL_USERS,), tags={"opskit:public-access": "report"})
    make_bucket("typo", grants=(ALL_USERS,), tags={"opskit:public-access": "yes please"})
    # Exempt wins over an invalid mode tag: nothing is reported as failed.
    make_bucket("exempt-typo", grants=(ALL_USERS,),
                tags={"opskit:public-access": "?", "opskit:exempt": "true"})
    api_calls.reset()
    result = handle(load_event("s3_public_remediation/scheduled-sweep.json"), lambda_context)
    assert mutations(api_calls) == []
    assert result["counts"] == {"done": 1, "planned": 0, "skipped": 4, "failed": 1}
    (report,) = alert_inbox.received()
    assert report["severity"] == "critical"
    assert report["title"] == "2 S3 bucket(s) still public: typo, watched"
    outcomes = sorted((a["resource"], a["action"], a["status"], a["details"].get("note", ""))
                      for a in report["actions"])
    assert outcomes == [
        ("exempt", "report-public-bucket", "skipped", "exempt: tagged opskit:exempt"),
        ("exempt-typo", "report-public-bucket", "skipped", "exempt: tagged opskit:exempt"),
        ("site", "report-public-bucket", "skipped",
         "allow-listed public bucket (website or intended share)"),
        ("typo", "report-public-bucket", "failed", "tag opskit:public-access='yes please' is "
                                                   "invalid: expected remediate, report, allow"),
        ("watched", "report-public-bucket", "done", ""),
        ("www-acme", "report-public-bucket", "skipped",
         "allow-listed public bucket (website or intended share)"),
    ]
    assert report["still_public"] == ["typo", "watched"]


SAMPLES = {
    # event: (planned, skipped, title of the run)
    "create-bucket": (2, 0, "Would close public access on 1 S3 bucket(s): acme-new-uploads"),
    "put-bucket-acl-public-read": (2, 0, "Would close public access on 1 S3 bucket(s): "
                                         "acme-press-kit"),
    "put-bucket-policy-public": (2, 0, "Would close public access on 1 S3 bucket(s): "
                                       "acme-public-datasets"),
    "put-bucket-public-access-block-off": (2, 0, "Would close public access on 1 S3 bucket(s): "
                                                 "acme-build-artifacts"),
    "delete-bucket-public-access-block": (2, 0, "Would close public access on 1 S3 bucket(s): "
                                                "acme-build-artifacts"),
    "delete-bucket-policy": (0, 0, "No public S3 bucket (DeleteBucketPolicy on acme-app-assets)"),
    "put-bucket-website": (0, 1, "No public S3 bucket (PutBucketWebsite on acme-www)"),
    "put-bucket-ownership-controls": (0, 0, "No public S3 bucket (PutBucketOwnershipControls on "
                                            "acme-legacy-logs)"),
    "scheduled-sweep": (8, 1, "Would close public access on 4 S3 bucket(s): acme-build-artifacts,"
                              " acme-new-uploads, acme-press-kit and 1 more"),
    "put-account-public-access-block-off": (8, 1, "Would close public access on 4 S3 bucket(s): "
                                                  "acme-build-artifacts, acme-new-uploads, "
                                                  "acme-press-kit and 1 more"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_event_plans_what_its_bucket_needs(
        name: str, lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        api_calls: ApiCalls) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    sample_buckets()
    api_calls.reset()
    result = handle(load_event(f"s3_public_remediation/{name}.json"), lambda_context)
    planned, skipped, title = SAMPLES[name]
    assert (result["counts"]["planned"], result["counts"]["skipped"]) == (planned, skipped)
    assert [t["title"] for t in result["targets"]] == [title]
    assert mutations(api_calls) == []


def test_a_policy_that_cannot_be_analysed_changes_nothing_on_that_bucket(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    make_bucket("garbled", grants=(ALL_USERS,))
    boto3.client("s3").put_bucket_policy(Bucket="garbled", Policy='{"Statement": "oops"}')
    api_calls.reset()
    result = handle(bucket_event("put-bucket-policy-public", "garbled"), lambda_context)
    assert result["counts"]["failed"] == 1
    assert mutations(api_calls) == []
    (report,) = alert_inbox.received()
    (action,) = report["actions"]
    assert action["action"] == "inspect"
    assert action["details"]["note"] == ("bucket policy not analysed, nothing changed: "
                                         "Statement='oops' is invalid: expected a list of objects")


def test_an_event_for_a_deleted_bucket_is_reported_and_nothing_changes(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    api_calls.reset()
    result = handle(load_event("s3_public_remediation/bucket-gone.json"), lambda_context)
    assert result["counts"] == {"done": 0, "planned": 0, "skipped": 1, "failed": 0}
    assert mutations(api_calls) == []
    (report,) = alert_inbox.received()
    assert report["severity"] == "info"
    assert report["error"] == "bucket acme-deleted-bucket no longer exists; nothing to check"


@pytest.mark.parametrize(("name", "why"), [
    ("skip-own-call", "made by this automation's own role"),
    ("skip-error-code", "the call failed (AccessDenied)"),
    ("skip-malformed-record", "malformed: detail.eventName=None is invalid"),
])
def test_records_that_must_not_be_acted_on(lambda_context: FakeLambdaContext,
                                           api_calls: ApiCalls, name: str, why: str) -> None:
    make_bucket("acme-press-kit", grants=(ALL_USERS,))
    api_calls.reset()
    result = handle(load_event(f"s3_public_remediation/{name}.json"), lambda_context)
    assert result["skipped"].startswith(why)
    assert api_calls.total == 0


def test_a_bucket_event_without_a_bucket_name_is_skipped(lambda_context: FakeLambdaContext) -> None:
    event = load_event("s3_public_remediation/put-bucket-acl-public-read.json")
    del event["detail"]["requestParameters"]["bucketName"]
    result = handle(event, lambda_context)
    assert result["skipped"] == ("malformed: detail.requestParameters.bucketName=None is "
                                 "invalid: expected a bucket name")


def test_a_second_run_finds_nothing_left_to_do(lambda_context: FakeLambdaContext,
                                               alert_inbox: AlertInbox,
                                               api_calls: ApiCalls) -> None:
    make_bucket("acme-press-kit", grants=(ALL_USERS,), statements=[public_read("acme-press-kit")])
    event = load_event("s3_public_remediation/put-bucket-acl-public-read.json")
    assert handle(event, lambda_context)["counts"]["done"] == 3
    alert_inbox.received()
    api_calls.reset()
    assert handle(event, lambda_context)["counts"]["done"] == 0
    assert mutations(api_calls) == []
    assert api_calls.of("s3") == 1  # Block Public Access is on: nothing else is read


def test_an_account_level_change_rechecks_every_bucket_of_every_target_region(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGET_REGIONS", "eu-west-1,us-east-2")
    make_bucket("open-in-ireland", grants=(ALL_USERS,))
    make_bucket("open-in-ohio", statements=[public_read("open-in-ohio")], region="us-east-2")
    make_bucket("private-in-ohio", region="us-east-2")
    result = handle(load_event("s3_public_remediation/delete-account-public-access-block.json"),
                    lambda_context)
    assert [(t["region"], t["title"]) for t in result["targets"]] == [
        ("eu-west-1", "Closed public access on 1 S3 bucket(s): open-in-ireland"),
        ("us-east-2", "Closed public access on 1 S3 bucket(s): open-in-ohio")]
    assert block("open-in-ireland") == ALL_ON
    assert policy("open-in-ohio") is None
    reports = alert_inbox.received()
    assert {r["trigger"]["event"] for r in reports} == {"DeleteAccountPublicAccessBlock"}


def test_a_bucket_that_cannot_be_read_fails_alone(lambda_context: FakeLambdaContext,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  alert_inbox: AlertInbox) -> None:
    from botocore.exceptions import ClientError

    from s3_public_remediation.buckets import BucketReader

    make_bucket("locked", grants=(ALL_USERS,))
    make_bucket("open", grants=(ALL_USERS,))
    real = BucketReader.state

    def state(self: BucketReader, bucket: str) -> Any:
        if bucket == "locked":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}},
                              "GetBucketAcl")
        return real(self, bucket)

    monkeypatch.setattr(BucketReader, "state", state)
    result = handle(load_event("s3_public_remediation/scheduled-sweep.json"), lambda_context)
    assert result["counts"] == {"done": 2, "planned": 0, "skipped": 0, "failed": 1}
    assert block("open") == ALL_ON
    (report,) = alert_inbox.received()
    assert report["severity"] == "critical"
    failed = [a for a in report["actions"] if a["status"] == "failed"]
    assert [(a["resource"], a["details"]["note"][:12]) for a in failed] == [
        ("locked", "AccessDenied")]


# Per open bucket: Block Public Access, ACL, policy, tags and ownership reads, the ACL read again
# just before it is written; ACL and Block Public Access writes.
OPEN_BUCKET_CALLS = 6 + 2


@pytest.mark.parametrize(("protected", "per_closed_bucket"), [
    # Block Public Access on (the default for buckets created since 2023): one read.
    (True, 1),
    # Nothing on: Block Public Access, ACL and policy are read.
    (False, 3),
])
def test_sweep_of_200_buckets_costs_a_fixed_number_of_calls(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls, protected: bool,
        per_closed_bucket: int) -> None:
    for index in range(200):
        is_open = index % 20 == 0
        make_bucket(f"bucket-{index:03d}", grants=(ALL_USERS,) if is_open else (),
                    block=ALL_ON if protected and not is_open else None)
    api_calls.reset()
    result = handle(load_event("s3_public_remediation/scheduled-sweep.json"), lambda_context)
    assert result["counts"]["done"] == 20
    assert result["targets"][0]["title"].startswith("Closed public access on 10 S3 bucket(s)")
    assert api_calls.of("s3", "ListBuckets") == 1
    assert api_calls.of("s3control") == 1
    assert api_calls.of("s3") == 1 + 190 * per_closed_bucket + 10 * OPEN_BUCKET_CALLS
