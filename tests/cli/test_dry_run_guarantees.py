"""The CLI's read-only guarantee (plan, invoke --profile without --live), attacked: webhook
posts, the sign-ins botocore makes for a profile, reads that create things, missing
credentials. Each test states a guarantee docs/cli.md gives."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from opskit_cli.guard import WriteRefused, is_read, read_only
from slack_notifier.delivery import WebhookSession
from tests.cli.conftest import Opskit
from tests.conftest import EVENTS, REGION

WEBHOOK = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX"


@pytest.fixture
def prod_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A profile named prod (moto's keys) in its own AWS config file."""
    config = tmp_path / "config"
    config.write_text(f"[profile prod]\nregion = {REGION}\naws_access_key_id = testing\n"
                      "aws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    return "prod"


@pytest.fixture
def posted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL any requests.Session posts to (answered 200 here, never sent)."""
    urls: list[str] = []

    def post(self: requests.Session, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        urls.append(url)
        response = requests.Response()
        response.status_code = 200
        response._content = b"ok"
        return response

    monkeypatch.setattr(requests.Session, "post", post)
    return urls


def test_invoke_with_a_profile_and_without_live_posts_nothing_to_slack(
        opskit: Opskit, prod_profile: str, posted: list[str]) -> None:
    """docs/cli.md: `--profile P` runs in dry run with the same read-only guard as plan, and
    `--live` is the only way to let it change things. The notifier's whole effect is a post
    (it has no dry run): on a real account it is refused without --live, naming --live."""
    with mock_aws():
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="opskit/slack-webhooks", SecretString=WEBHOOK)
        ran = opskit("invoke", "slack_notifier",
                     str(EVENTS / "slack_notifier" / "sqs-plain-text.json"),
                     "--profile", prod_profile)
    assert posted == [], (f"a dry-run invoke on a real account posted to {posted} "
                          f"(status {ran.status}, answer {ran.out!r})")
    assert ran.status == 2
    assert "--live" in ran.err


def test_no_request_leaves_through_requests_in_a_dry_run() -> None:
    """Defence in depth: whatever a handler does, `requests` sends nothing inside read_only."""
    with read_only(), pytest.raises(WriteRefused, match=r"https\.POST hooks\.slack\.com"):
        requests.post(WEBHOOK, json={"text": "hello"}, timeout=5)


@pytest.mark.webhook_transport
def test_no_webhook_post_leaves_through_the_notifiers_own_transport_in_a_dry_run() -> None:
    """The notifier posts through urllib3 (its WebhookSession), not `requests`: refused too."""
    session = WebhookSession()
    with read_only(), pytest.raises(WriteRefused, match=r"https\.POST hooks\.slack\.com"):
        session.post(WEBHOOK, json={"text": "hello"}, timeout=(1.0, 1.0))


@pytest.mark.parametrize(("service", "operation"), [
    ("sso-oidc", "CreateToken"),  # an SSO profile's expired access token, refreshed by botocore
    ("sts", "AssumeRoleWithWebIdentity"),  # a web-identity profile (CI, EKS/IRSA)
])
def test_the_sign_ins_botocore_makes_for_a_profile_are_let_through(
        service: str, operation: str) -> None:
    """The guard's own comment: READ_OPERATIONS holds "the sign-ins a plan needs". Credential
    providers make their clients from the (guarded) botocore session, so with an SSO profile
    whose access token needs refreshing, or a web-identity profile, every plan fails with
    WriteRefused before its first read."""
    assert is_read(service, operation)


def test_a_web_identity_profile_can_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    token = tmp_path / "token"
    token.write_text("x" * 40)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci")
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN")
    with mock_aws(), read_only():
        fake = {name: os.environ.pop(name) for name in keys if name in os.environ}
        try:  # mock_aws sets fake keys: a web-identity profile has none
            ec2 = boto3.session.Session().client("ec2", region_name=REGION)
            assert ec2.describe_regions()["Regions"]  # WriteRefused: AssumeRoleWithWebIdentity
        finally:
            os.environ.update(fake)


@pytest.mark.parametrize(("service", "operation"), [
    ("iot", "DescribeEndpoint"),  # "Returns or creates a unique endpoint" for the account
    ("redshift", "GetClusterCredentials"),  # AutoCreate=True creates the database user
    ("redshift", "GetClusterCredentialsWithIAM"),
    ("cognito-identity", "GetId"),  # creates an identity in the pool
    ("ssm", "GetDeployablePatchSnapshotForInstance"),  # creates the snapshot it returns
    ("lightsail", "GetInstanceAccessDetails"),  # creates a temporary key pair
])
def test_operations_named_like_reads_that_create_things_are_refused(
        service: str, operation: str) -> None:
    """The allow-list is by name prefix; these documented side effects pass it. None is
    called by an automation today, but the module promises every non-read is refused."""
    assert not is_read(service, operation)


def test_plan_with_expired_credentials_names_the_problem(
        opskit: Opskit, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials at all for the profile: the user should get a message, not a traceback
    (the STS GetCallerIdentity of the home account fails outside any target)."""
    config = tmp_path / "config"
    config.write_text(f"[profile empty]\nregion = {REGION}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    try:
        ran = opskit("plan", "instance_scheduler", "--profile", "empty", "--quiet")
    except Exception as exc:
        pytest.fail(f"opskit plan raised {type(exc).__name__}: {exc}")
    assert ran.status in (1, 2)
    assert "credentials" in ran.err.lower()

