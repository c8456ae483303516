"""The key-age auditor on moto: report by default, enforce with protections, rotation, KMS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import time_machine

from access_key_auditor import app
from opskit.iam_keys import USER_TAG_ON_ROTATED
from tests.access_key_auditor.seed import NOW, aged_key, sample_users
from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext, load_event

EVENT = load_event("access_key_auditor/daily-audit.json")


@pytest.fixture(autouse=True)
def _live(monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    monkeypatch.setenv("CHECK_KMS", "false")
    monkeypatch.setattr(app, "wait", lambda _: None)


@pytest.fixture(autouse=True)
def _at_the_event_time() -> Iterator[None]:
    """The run's clock is the Lambda's: each test runs at the sample event's time, which the
    seeded keys' ages count from."""
    with time_machine.travel(NOW, tick=False):
        yield


def audit(context: FakeLambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(EVENT, context)
    return result


def status(user: str) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"]
            for k in boto3.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]}


CI_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ci-AbCdEf"


def bind(user: str, secret_arn: str) -> None:
    """The user names its rotation secret (the rotation's binding, which the auditor honours)."""
    boto3.client("iam").tag_user(UserName=user, Tags=[
        {"Key": "opskit:rotation-secret", "Value": secret_arn}])


def user_tags(user: str) -> dict[str, str]:
    return {t["Key"]: t["Value"]
            for t in boto3.client("iam").list_user_tags(UserName=user)["Tags"]}


def writes(api_calls: ApiCalls) -> list[str]:
    return sorted(op for (svc, op), n in api_calls.counts.items() for _ in range(n)
                  if svc in {"iam", "secretsmanager", "kms"}
                  and op.startswith(("Update", "Delete", "Tag", "Rotate", "Enable")))


def test_the_default_only_reports(lambda_context: FakeLambdaContext, alert_inbox: AlertInbox,
                                  api_calls: ApiCalls) -> None:
    keys = sample_users()
    api_calls.reset()
    result = audit(lambda_context)
    assert writes(api_calls) == []
    (report,) = alert_inbox.received()
    kinds = {a["resource"]: (a["action"], a["status"], a["details"].get("note"))
             for a in report["actions"]}
    assert kinds == {
        keys["nearing"]: ("warn-key-age", "done", None),
        keys["overdue"]: ("report-overdue-key", "done", None),
        keys["stale-inactive"]: ("report-overdue-key", "done", None),
        keys["exempt"]: ("report-overdue-key", "skipped", "exempt: tagged opskit:exempt")}
    assert report["title"] == ("Access keys: 1 near the age limit, 2 over the limit or long "
                               "inactive")
    assert report["severity"] == "warning"
    assert result["targets"][0]["counts"]["done"] == 3


def test_only_users_the_credential_report_flags_are_read_key_by_key(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    for index in range(30):
        aged_key(f"svc-{index:02d}", 5, used_days_ago=1)
    aged_key("svc-old", 95, used_days_ago=1)
    api_calls.reset()
    audit(lambda_context)
    assert api_calls.of("iam", "GetCredentialReport") == 1
    assert api_calls.of("iam", "ListAccessKeys") == 1  # svc-old only, not the 30 fresh users
    assert api_calls.of("iam", "ListUsers") == 0


def test_enforce_deactivates_after_grace_and_deletes_long_inactive_keys(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("AUDIT_MODE", "enforce")
    keys = sample_users()
    in_grace = aged_key("app-grace", 93, used_days_ago=1)
    audit(lambda_context)
    assert status("app-overdue") == {keys["overdue"]: "Inactive"}
    # Deactivated by a person some day: recorded now, deleted a full period from now.
    assert status("app-retired") == {keys["stale-inactive"]: "Inactive"}
    assert user_tags("app-retired") == {
        f"opskit:key-deactivated:{keys['stale-inactive']}": "2026-11-23T07:00:00+00:00"}
    assert status("app-grace") == {in_grace: "Active"}  # 93 days: inside 90 + 7 of grace
    assert status("break-glass") == {keys["exempt"]: "Active"}
    assert user_tags("app-overdue") == {
        f"opskit:key-deactivated:{keys['overdue']}": "2026-11-23T07:00:00+00:00"}
    (report,) = alert_inbox.received()
    assert report["title"] == ("Access keys: 1 near the age limit, 1 over the limit or long "
                               "inactive, 1 key(s) deactivated, 1 inactive key(s) recorded")
    assert report["severity"] == "critical"  # app-overdue's only key


def test_a_key_used_after_its_replacement_is_never_deactivated_or_deleted(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("AUDIT_MODE", "enforce")
    old = aged_key("app-migrating", 120, used_days_ago=1)
    new = aged_key("app-migrating", 10, used_days_ago=0.1)
    audit(lambda_context)
    assert status("app-migrating") == {old: "Active", new: "Active"}
    (report,) = alert_inbox.received()
    (action,) = [a for a in report["actions"] if a["resource"] == old]
    assert (action["action"], action["status"]) == ("report-overdue-key", "done")
    assert action["reason"] == ("120 days old, past the limit and 7 days of grace; not "
                                "deactivated: used 2026-11-22 07:00 UTC, after its replacement "
                                f"{new} was created: something still depends on it")


def test_an_inactive_key_is_deleted_after_the_grace_since_its_deactivation_tag(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_MODE", "enforce")
    recent = aged_key("app-rotated", 100, used_days_ago=60, active=False)
    boto3.client("iam").tag_user(UserName="app-rotated", Tags=[
        {"Key": f"opskit:key-deactivated:{recent}", "Value": "2026-11-13T07:00:00+00:00"}])
    audit(lambda_context)
    assert status("app-rotated") == {recent: "Inactive"}  # deactivated 10 days ago: kept


def test_managed_users_get_their_secret_rotated(lambda_context: FakeLambdaContext,
                                                monkeypatch: pytest.MonkeyPatch,
                                                api_calls: ApiCalls,
                                                alert_inbox: AlertInbox) -> None:
    from access_key_auditor import audit as audit_module

    monkeypatch.setenv("AUDIT_MODE", "enforce")
    key = aged_key("ci-deployer", 100, used_days_ago=1)
    sm = boto3.client("secretsmanager")
    arn = sm.create_secret(Name="opskit/iam/ci-deployer", SecretString=json.dumps(
        {"UserName": "ci-deployer", "AccessKeyId": key, "SecretAccessKey": "x"}),
        Tags=[{"Key": USER_TAG_ON_ROTATED, "Value": "ci-deployer"}])["ARN"]
    bind("ci-deployer", arn)
    monkeypatch.setattr(audit_module, "rotation_secrets",
                        lambda _: {"ci-deployer": [(arn, True)]})  # moto lists no rotation flag
    api_calls.reset()
    result = audit(lambda_context)
    assert api_calls.of("secretsmanager", "RotateSecret") == 1
    assert result["targets"][0]["title"] == "Access keys: 1 rotation(s) started"
    assert status("ci-deployer") == {key: "Active"}  # the rotation replaces it, not the audit


def test_dry_run_plans_without_changes(lambda_context: FakeLambdaContext,
                                       monkeypatch: pytest.MonkeyPatch,
                                       alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    monkeypatch.setenv("AUDIT_MODE", "enforce")
    keys = sample_users()
    api_calls.reset()
    audit(lambda_context)
    assert writes(api_calls) == []
    assert status("app-overdue") == {keys["overdue"]: "Active"}
    (report,) = alert_inbox.received()
    assert report["title"] == ("Access keys, planned in dry-run: 1 near the age limit, "
                               "1 key(s) deactivated, 1 inactive key(s) recorded")


def test_kms_keys_without_rotation_are_reported_or_turned_on(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("CHECK_KMS", "true")
    kms = boto3.client("kms")
    off = kms.create_key(Description="legacy data key")["KeyMetadata"]["Arn"]
    on = kms.create_key(Description="rotating key")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=on)
    kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")  # cannot rotate automatically
    audit(lambda_context)
    (report,) = alert_inbox.received()
    assert [(a["resource"], a["action"]) for a in report["actions"]] == [
        (off, "report-kms-rotation-off")]
    assert kms.get_key_rotation_status(KeyId=off)["KeyRotationEnabled"] is False
    monkeypatch.setenv("ENABLE_KMS_ROTATION", "true")
    audit(lambda_context)
    assert kms.get_key_rotation_status(KeyId=off)["KeyRotationEnabled"] is True


@pytest.mark.parametrize(("env", "message"), [
    ({"AUDIT_MODE": "delete-all"}, "AUDIT_MODE='delete-all' is invalid: expected report or"),
    ({"WARN_DAYS": "100"}, "WARN_DAYS=100 is invalid: expected at most MAX_KEY_AGE_DAYS (90)"),
])
def test_bad_configuration_is_refused(lambda_context: FakeLambdaContext,
                                      monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                      message: str) -> None:
    from opskit.config import ConfigError

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        audit(lambda_context)
    assert message in str(info.value)


def test_managed_users_that_cannot_rotate_are_reported(lambda_context: FakeLambdaContext,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       alert_inbox: AlertInbox,
                                                       api_calls: ApiCalls) -> None:
    from access_key_auditor import audit as audit_module

    monkeypatch.setenv("AUDIT_MODE", "enforce")
    old = aged_key("ci-deployer", 100, used_days_ago=1)
    aged_key("ci-deployer", 5, used_days_ago=1)  # a second active key: rotation has no room
    off = aged_key("batch-runner", 100, used_days_ago=1)
    batch = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:batch-AbCdEf"
    bind("ci-deployer", CI_SECRET)
    bind("batch-runner", batch)
    monkeypatch.setattr(audit_module, "rotation_secrets", lambda _: {
        "ci-deployer": [(CI_SECRET, True)], "batch-runner": [(batch, False)]})
    api_calls.reset()
    audit(lambda_context)
    assert api_calls.of("secretsmanager", "RotateSecret") == 0
    assert status("ci-deployer")[old] == status("batch-runner")[off] == "Active"
    (report,) = alert_inbox.received()
    reasons = {a["resource"]: a["reason"] for a in report["actions"]}
    assert reasons[old].endswith("ci-deployer has 2 active keys, so rotation cannot add one: "
                                 "deactivate the key that is not in the secret")
    assert reasons[off].endswith("has rotation off: turn it on to replace the key")


def test_report_mode_never_starts_a_rotation(lambda_context: FakeLambdaContext,
                                             monkeypatch: pytest.MonkeyPatch,
                                             api_calls: ApiCalls) -> None:
    from access_key_auditor import audit as audit_module

    aged_key("ci-deployer", 100, used_days_ago=1)
    bind("ci-deployer", CI_SECRET)
    monkeypatch.setattr(audit_module, "rotation_secrets", lambda _: {
        "ci-deployer": [(CI_SECRET, True)]})
    api_calls.reset()
    result = audit(lambda_context)
    assert api_calls.of("secretsmanager", "RotateSecret") == 0
    assert result["targets"][0]["title"] == "Access keys: 1 over the limit or long inactive"


def test_a_deleted_key_loses_its_deactivation_tag(lambda_context: FakeLambdaContext,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIT_MODE", "enforce")
    key = aged_key("app-rotated", 100, used_days_ago=60, active=False)
    iam = boto3.client("iam")
    iam.tag_user(UserName="app-rotated", Tags=[
        {"Key": f"opskit:key-deactivated:{key}", "Value": "2026-10-01T07:00:00+00:00"}])
    audit(lambda_context)
    assert status("app-rotated") == {}
    assert iam.list_user_tags(UserName="app-rotated")["Tags"] == []


def test_enforce_never_deactivates_a_key_used_recently_unless_the_stack_says_so(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("AUDIT_MODE", "enforce")
    old = aged_key("app-busy", 120, used_days_ago=1 / 24)  # used an hour ago
    audit(lambda_context)
    assert status("app-busy")[old] == "Active"
    (report,) = alert_inbox.received()
    (action,) = [a for a in report["actions"] if a["resource"] == old]
    assert action["action"] == "report-overdue-key"
    assert "within the last 7 days (RECENT_USE_DAYS)" in action["reason"]
    monkeypatch.setenv("DEACTIVATE_RECENTLY_USED", "true")
    audit(lambda_context)
    assert status("app-busy")[old] == "Inactive"


def test_a_users_only_key_is_reported_critical_before_it_is_deactivated(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox) -> None:
    """With no grace at all, the only key still gets a day of critical reports first."""
    monkeypatch.setenv("AUDIT_MODE", "enforce")
    monkeypatch.setenv("GRACE_DAYS", "0")
    only = aged_key("app-alone", 90.5, used_days_ago=20)
    audit(lambda_context)
    assert status("app-alone") == {only: "Active"}
    (report,) = alert_inbox.received()
    assert report["severity"] == "critical"
    assert report["actions"][0]["action"] == "report-overdue-key"
    assert report["actions"][0]["details"]["only_key"] is True


def test_a_key_a_rotation_replaced_follows_the_rotations_timeline(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """The auditor never cuts a bound user's rotation overlap short."""
    from access_key_auditor import audit as audit_module

    monkeypatch.setenv("AUDIT_MODE", "enforce")
    old = aged_key("ci-deployer", 120, used_days_ago=20)
    aged_key("ci-deployer", 1, used_days_ago=0.5)
    bind("ci-deployer", CI_SECRET)
    boto3.client("iam").tag_user(UserName="ci-deployer", Tags=[
        {"Key": f"opskit:key-replaced:{old}", "Value": "2026-11-22T07:00:00+00:00"}])
    monkeypatch.setattr(audit_module, "rotation_secrets", lambda _: {
        "ci-deployer": [(CI_SECRET, True)]})
    audit(lambda_context)
    assert status("ci-deployer")[old] == "Active"


def test_a_decoy_secret_makes_no_user_managed(lambda_context: FakeLambdaContext,
                                              monkeypatch: pytest.MonkeyPatch,
                                              api_calls: ApiCalls) -> None:
    """A secret merely tagged with a user, which the user does not name, changes nothing: the
    user's overdue key is still deactivated, and the decoy is never rotated."""
    from access_key_auditor import audit as audit_module

    monkeypatch.setenv("AUDIT_MODE", "enforce")
    key = aged_key("victim", 120, used_days_ago=20)
    decoy = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:decoy-AbCdEf"
    monkeypatch.setattr(audit_module, "rotation_secrets", lambda _: {
        "victim": [(decoy, False)]})
    api_calls.reset()
    audit(lambda_context)
    assert status("victim") == {key: "Inactive"}
    assert api_calls.of("secretsmanager", "RotateSecret") == 0
