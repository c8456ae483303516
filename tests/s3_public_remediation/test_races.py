"""A bucket changed between the read and the write: the write never puts back a stale copy."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from s3_public_remediation import app
from s3_public_remediation.buckets import BucketReader
from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext, load_event
from tests.s3_public_remediation.seed import ALL_USERS, OWN_ROLE, make_bucket, public_read

PARTNER = {"Sid": "Partner", "Effect": "Allow",
           "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "s3:GetObject",
           "Resource": "arn:aws:s3:::shared/*"}
PARTNER_ID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
PARTNER_USER = {"Grantee": {"Type": "CanonicalUser", "ID": PARTNER_ID}, "Permission": "READ"}


@pytest.fixture(autouse=True)
def _live(monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    monkeypatch.setenv("OWN_ROLE_NAME", OWN_ROLE)


def sweep(context: FakeLambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(
        load_event("s3_public_remediation/scheduled-sweep.json"), context)
    return result


def between_read_and_write(monkeypatch: pytest.MonkeyPatch, edit: Callable[[], None]) -> None:
    """Runs `edit` once, after the sweep has read every bucket and before it writes (the tags are
    read only for a bucket found public, after the first read)."""
    real = BucketReader.tags
    done: list[bool] = []

    def tags(self: BucketReader, bucket: str) -> dict[str, str]:
        if not done:
            done.append(True)
            edit()
        return real(self, bucket)

    monkeypatch.setattr(BucketReader, "tags", tags)


def put_policy(*statements: dict[str, Any]) -> None:
    boto3.client("s3").put_bucket_policy(Bucket="shared", Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))


def policy() -> dict[str, Any] | None:
    s3 = boto3.client("s3")
    try:
        return dict(json.loads(s3.get_bucket_policy(Bucket="shared")["Policy"]))
    except s3.exceptions.ClientError:
        return None


def test_a_statement_added_after_the_read_is_kept(lambda_context: FakeLambdaContext,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    make_bucket("shared", statements=[public_read("shared")])
    between_read_and_write(monkeypatch, lambda: put_policy(public_read("shared"), PARTNER))
    result = sweep(lambda_context)
    assert result["counts"] == {"done": 2, "planned": 0, "skipped": 0, "failed": 0}
    # Planned from the first read, the policy would have been deleted with the new statement.
    assert policy() == {"Version": "2012-10-17", "Statement": [PARTNER]}


def test_a_grant_added_after_the_read_is_kept(lambda_context: FakeLambdaContext,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    make_bucket("shared", grants=(ALL_USERS,))

    def add_grant() -> None:
        s3 = boto3.client("s3")
        acl = s3.get_bucket_acl(Bucket="shared")
        s3.put_bucket_acl(Bucket="shared", AccessControlPolicy={
            "Grants": [*acl["Grants"], PARTNER_USER], "Owner": acl["Owner"]})  # type: ignore[list-item]

    between_read_and_write(monkeypatch, add_grant)
    result = sweep(lambda_context)
    assert result["counts"]["done"] == 2
    grants = boto3.client("s3").get_bucket_acl(Bucket="shared")["Grants"]
    assert PARTNER_USER in grants
    assert all(g["Grantee"].get("URI") != ALL_USERS for g in grants)


def test_a_bucket_closed_by_a_person_meanwhile_is_left_as_they_made_it(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        api_calls: ApiCalls) -> None:
    make_bucket("shared", statements=[public_read("shared")])
    between_read_and_write(monkeypatch, lambda: put_policy(PARTNER))
    api_calls.reset()
    result = sweep(lambda_context)
    assert result["counts"] == {"done": 0, "planned": 0, "skipped": 0, "failed": 0}
    assert policy() == {"Version": "2012-10-17", "Statement": [PARTNER]}
    assert api_calls.of("s3", "PutBucketPolicy") == 0
    assert api_calls.of("s3", "DeleteBucketPolicy") == 0
    assert api_calls.of("s3", "PutPublicAccessBlock") == 0


def test_a_policy_that_keeps_changing_is_not_written(lambda_context: FakeLambdaContext,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     api_calls: ApiCalls,
                                                     alert_inbox: AlertInbox) -> None:
    make_bucket("shared", statements=[public_read("shared")])
    real = BucketReader.policy
    reads: list[int] = []

    def policy_read(self: BucketReader, bucket: str) -> str | None:
        # Every read after the first sees a statement added since the one before.
        reads.append(1)
        if len(reads) > 1:
            put_policy(public_read("shared"), {**PARTNER, "Sid": f"Partner{len(reads)}"})
        return real(self, bucket)

    monkeypatch.setattr(BucketReader, "policy", policy_read)
    result = sweep(lambda_context)
    assert result["counts"] == {"done": 0, "planned": 0, "skipped": 0, "failed": 1}
    assert api_calls.of("s3", "DeleteBucketPolicy") == 0
    assert api_calls.of("s3", "PutPublicAccessBlock") == 0
    assert (policy() or {})["Statement"][0]["Sid"] == "PublicRead"
    (report,) = alert_inbox.received()
    (failed,) = report["actions"]
    assert failed["details"]["note"] == ("the ACL or policy changed during each of 3 checks; "
                                         "nothing written, the next check closes the bucket")


def test_dry_run_reads_nothing_again(lambda_context: FakeLambdaContext,
                                     monkeypatch: pytest.MonkeyPatch, api_calls: ApiCalls) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    make_bucket("shared", statements=[public_read("shared")])
    api_calls.reset()
    result = sweep(lambda_context)
    assert result["counts"]["planned"] == 2
    assert api_calls.of("s3", "GetBucketPolicy") == 1


def test_the_same_acl_listed_in_another_order_is_not_a_change(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        api_calls: ApiCalls) -> None:
    make_bucket("shared", grants=(ALL_USERS,))

    def reorder() -> None:
        s3 = boto3.client("s3")
        acl = s3.get_bucket_acl(Bucket="shared")
        s3.put_bucket_acl(Bucket="shared", AccessControlPolicy={
            "Grants": acl["Grants"][::-1], "Owner": acl["Owner"]})

    between_read_and_write(monkeypatch, reorder)
    api_calls.reset()
    result = sweep(lambda_context)
    assert result["counts"]["done"] == 2
    # No second full read: Block Public Access was read once, by the sweep.
    assert api_calls.of("s3", "GetPublicAccessBlock") == 1
