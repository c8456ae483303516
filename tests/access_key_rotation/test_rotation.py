"""The four rotation steps on moto, called directly as Secrets Manager calls them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from access_key_rotation import app
from access_key_rotation.protocol import RotationError
from opskit.events import EventError
from tests.access_key_rotation.seed import (
    SAMPLE_ARN,
    TOKEN,
    USER,
    secret_for,
    start_rotation,
    under_rotation,
    user_with_key,
)
from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@pytest.fixture(autouse=True)
def _live(monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)


def step(name: str, context: FakeLambdaContext, arn: str = SAMPLE_ARN,
         token: str = TOKEN) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(
        {"Step": name, "SecretId": arn, "ClientRequestToken": token}, context)
    return result


def stage(arn: str, label: str) -> dict[str, str]:
    value = boto3.client("secretsmanager").get_secret_value(SecretId=arn, VersionStage=label)
    return dict(json.loads(value["SecretString"]))


def user_tags(user: str = USER) -> dict[str, str]:
    return {t["Key"]: t["Value"]
            for t in boto3.client("iam").list_user_tags(UserName=user)["Tags"]}


def at(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(timespec="seconds")


def keys(user: str = USER) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"]
            for k in boto3.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]}


def test_a_full_rotation_replaces_the_key_and_the_old_one_stays_active_for_the_overlap(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox) -> None:
    arn, old = under_rotation()
    for name in STEPS:
        step(name, lambda_context)
    new = stage(arn, "AWSCURRENT")
    assert new["UserName"] == USER
    assert new["AccessKeyId"] != old["AccessKeyId"]
    # Consumers that cache the old key keep working: the daily timeline deactivates it later.
    assert keys() == {old["AccessKeyId"]: "Active", new["AccessKeyId"]: "Active"}
    tags = user_tags()
    assert f"opskit:key-replaced:{old['AccessKeyId']}" in tags
    assert f"opskit:key-deactivated:{old['AccessKeyId']}" not in tags
    (report,) = alert_inbox.received()  # only finishSecret reports; the other steps are quiet
    assert report["title"] == (f"Rotated the access key of {USER} (opskit/iam/ci-deployer): "
                               f"{new['AccessKeyId']} is current")
    assert [a["action"] for a in report["actions"]] == ["promote-version",
                                                        "record-replaced-key"]


def test_every_step_is_idempotent_for_its_token(lambda_context: FakeLambdaContext,
                                                api_calls: ApiCalls) -> None:
    arn, _ = under_rotation()
    step("createSecret", lambda_context)
    pending = stage(arn, "AWSPENDING")
    api_calls.reset()
    step("createSecret", lambda_context)  # Secrets Manager retries a step after a timeout
    assert api_calls.of("iam", "CreateAccessKey") == 0
    assert stage(arn, "AWSPENDING") == pending
    for name in STEPS[1:]:
        step(name, lambda_context)
    api_calls.reset()
    for name in STEPS:  # the token is now AWSCURRENT: every step has nothing left to do
        step(name, lambda_context)
    writes = [op for (_, op) in api_calls.counts if not op.startswith(("Get", "Describe", "List"))]
    assert writes == []


def test_a_user_with_two_keys_loses_an_inactive_one_a_full_period_after_its_deactivation(
        lambda_context: FakeLambdaContext) -> None:
    arn, current = under_rotation()
    iam = boto3.client("iam")
    spare = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName=USER, AccessKeyId=spare, Status="Inactive")
    iam.tag_user(UserName=USER, Tags=[{"Key": f"opskit:key-deactivated:{spare}",
                                       "Value": at(days_ago=31)}])
    step("createSecret", lambda_context)
    new = stage(arn, "AWSPENDING")["AccessKeyId"]
    assert keys() == {current["AccessKeyId"]: "Active", new: "Active"}


def test_a_key_a_person_deactivated_an_hour_ago_is_not_deleted_to_make_room(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    """Its period counts from when it was first seen inactive (recorded now), not from its
    last use: the rotation waits and says until when."""
    _, current = under_rotation()
    iam = boto3.client("iam")
    spare = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName=USER, AccessKeyId=spare, Status="Inactive")
    api_calls.reset()
    with pytest.raises(RotationError, match=rf"{spare} is inactive since .* and may be deleted "
                                            r"from .*; rotation resumes then"):
        step("createSecret", lambda_context)
    assert keys() == {current["AccessKeyId"]: "Active", spare: "Inactive"}
    assert f"opskit:key-deactivated:{spare}" in user_tags()
    assert api_calls.of("iam", "DeleteAccessKey") == 0
    assert api_calls.of("iam", "CreateAccessKey") == 0


def test_a_user_with_two_active_keys_fails_clearly_and_nothing_changes(
        lambda_context: FakeLambdaContext) -> None:
    _, current = under_rotation()
    other = boto3.client("iam").create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    with pytest.raises(RotationError, match=r"user ci-deployer already has two keys and none is "
                                            r"inactive .*: the one not in secret .* is still "
                                            r"active"):
        step("createSecret", lambda_context)
    assert keys() == {current["AccessKeyId"]: "Active", other: "Active"}


def test_the_new_key_is_retried_while_iam_catches_up(lambda_context: FakeLambdaContext,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from access_key_rotation import steps

    under_rotation()
    step("createSecret", lambda_context)
    calls: list[float] = []
    monkeypatch.setattr(steps, "wait", calls.append)
    real = app.sts_with

    def flaky(region: str) -> Any:
        make = real(region)

        def sts_for(secret: Any) -> Any:
            client = make(secret)
            attempts = {"n": 0}

            def not_yet(**_: Any) -> None:
                attempts["n"] += 1
                if attempts["n"] <= 3:
                    raise ClientError({"Error": {"Code": "InvalidClientTokenId",
                                                 "Message": "not yet"}}, "GetCallerIdentity")

            client.meta.events.register("before-call.sts.GetCallerIdentity", not_yet)
            return client
        return sts_for

    monkeypatch.setattr(app, "sts_with", flaky)
    step("testSecret", lambda_context)
    assert calls == [1.0, 2.0, 4.0]


def test_a_key_that_never_works_fails_the_test_step(lambda_context: FakeLambdaContext,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from access_key_rotation import steps

    under_rotation()
    step("createSecret", lambda_context)
    waits: list[float] = []
    monkeypatch.setattr(steps, "wait", waits.append)
    real = app.sts_with

    def refused(region: str) -> Any:
        def sts_for(secret: Any) -> Any:
            client = real(region)(secret)

            def deny(**_: Any) -> None:
                raise ClientError({"Error": {"Code": "InvalidClientTokenId", "Message": "no"}},
                                  "GetCallerIdentity")

            client.meta.events.register("before-call.sts.GetCallerIdentity", deny)
            return client
        return sts_for

    monkeypatch.setattr(app, "sts_with", refused)
    with pytest.raises(RotationError, match="does not work: InvalidClientTokenId"):
        step("testSecret", lambda_context)
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]  # 8 tries over about 40 seconds


def test_a_key_of_someone_else_fails_the_test_step(lambda_context: FakeLambdaContext) -> None:
    arn, _ = under_rotation()
    step("createSecret", lambda_context)
    boto3.client("iam").delete_access_key(UserName=USER,
                                          AccessKeyId=stage(arn, "AWSPENDING")["AccessKeyId"])
    with pytest.raises(RotationError, match=r"signs as .*, not as user ci-deployer"):
        step("testSecret", lambda_context)


@pytest.mark.parametrize(("value", "message"), [
    ("not json", "the secret is not a JSON object with UserName, AccessKeyId, SecretAccessKey"),
    (json.dumps({"UserName": USER, "AccessKeyId": "AKIAEXAMPLE"}),
     "field SecretAccessKey is missing or not a string"),
])
def test_a_secret_in_the_wrong_shape_fails_without_change_or_leak(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls, capsys: pytest.CaptureFixture[str],
        value: str, message: str) -> None:
    user_with_key(secret="opskit/iam/broken")
    arn = secret_for(value, name="opskit/iam/broken")
    start_rotation(arn)
    api_calls.reset()
    with pytest.raises(RotationError, match=message):
        step("createSecret", lambda_context, arn=arn)
    assert [op for (svc, op) in api_calls.counts if svc == "iam"] == ["ListUserTags"]
    assert "not json" not in capsys.readouterr().out


def test_tokens_that_are_not_staged_are_refused(lambda_context: FakeLambdaContext) -> None:
    arn, _ = under_rotation()
    with pytest.raises(RotationError, match="has no version 0000 to rotate"):
        step("createSecret", lambda_context, token="0000")
    sm = boto3.client("secretsmanager")
    other = sm.put_secret_value(SecretId=arn, SecretString="{}",
                                VersionStages=["AWSPREVIOUS"])["VersionId"]
    with pytest.raises(RotationError, match=f"version {other} is not staged AWSPENDING"):
        step("createSecret", lambda_context, token=other)


def test_a_secret_without_rotation_is_refused(lambda_context: FakeLambdaContext) -> None:
    arn = secret_for(user_with_key())
    with pytest.raises(RotationError, match="is not enabled for rotation"):
        step("createSecret", lambda_context, arn=arn)


@pytest.mark.usefixtures("aws")
def test_an_unknown_step_is_refused(lambda_context: FakeLambdaContext) -> None:
    with pytest.raises(EventError, match="Step='rotateEverything' is invalid"):
        step("rotateEverything", lambda_context)


def test_dry_run_plans_creates_nothing_and_stops_the_rotation(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        api_calls: ApiCalls, alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    _, current = under_rotation()
    api_calls.reset()
    with pytest.raises(RotationError, match="createSecret planned, nothing changed: DRY_RUN"):
        step("createSecret", lambda_context)
    assert api_calls.of("iam", "CreateAccessKey") == 0
    assert keys() == {current["AccessKeyId"]: "Active"}
    (report,) = alert_inbox.received()
    assert report["counts"]["planned"] == 1


def test_no_secret_ever_reaches_the_logs_or_the_reports(
        lambda_context: FakeLambdaContext, capsys: pytest.CaptureFixture[str],
        alert_inbox: AlertInbox) -> None:
    arn, old = under_rotation()
    for name in STEPS:
        step(name, lambda_context)
    new = stage(arn, "AWSCURRENT")
    published = json.dumps(alert_inbox.received())
    logged = capsys.readouterr()
    for secret in (old["SecretAccessKey"], new["SecretAccessKey"]):
        assert secret not in logged.out
        assert secret not in logged.err
        assert secret not in published


def test_a_finish_retried_after_the_promotion_still_records_the_replaced_key(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from access_key_rotation import steps

    arn, old = under_rotation()
    for name in STEPS[:3]:
        step(name, lambda_context)
    real = steps.Rotator._record_replaced

    def broken(self: Any, *args: Any) -> None:
        raise RotationError("record-replaced-key failed: Throttling")

    monkeypatch.setattr(steps.Rotator, "_record_replaced", broken)
    with pytest.raises(RotationError):
        step("finishSecret", lambda_context)  # promoted, but the replacement is not recorded
    assert f"opskit:key-replaced:{old['AccessKeyId']}" not in user_tags()
    monkeypatch.setattr(steps.Rotator, "_record_replaced", real)
    step("finishSecret", lambda_context)  # Secrets Manager retries the step
    assert f"opskit:key-replaced:{old['AccessKeyId']}" in user_tags()
    assert keys()[old["AccessKeyId"]] == "Active"
    assert stage(arn, "AWSCURRENT")["AccessKeyId"] != old["AccessKeyId"]


def test_an_exempt_user_is_never_rotated(lambda_context: FakeLambdaContext,
                                         api_calls: ApiCalls) -> None:
    under_rotation()
    boto3.client("iam").tag_user(UserName=USER, Tags=[{"Key": "opskit:exempt", "Value": "true"}])
    api_calls.reset()
    with pytest.raises(RotationError, match="user ci-deployer is exempt"):
        step("createSecret", lambda_context)
    assert api_calls.of("iam", "CreateAccessKey") == 0


def test_making_room_also_drops_the_deleted_keys_record(
        lambda_context: FakeLambdaContext) -> None:
    under_rotation()
    iam = boto3.client("iam")
    spare = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName=USER, AccessKeyId=spare, Status="Inactive")
    iam.tag_user(UserName=USER, Tags=[{"Key": f"opskit:key-deactivated:{spare}",
                                       "Value": "2026-08-01T00:00:00+00:00"}])
    step("createSecret", lambda_context)
    assert user_tags() == {"opskit:rotation-secret": SAMPLE_ARN}


# The secret binds its user: the value is never trusted to say whose key it is.
def test_a_secret_whose_value_names_another_user_gets_no_key_for_that_user(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Anyone who can write one rotation secret could put `admin` in its value: the secret's
    tag says ci-deployer, so nothing happens to admin (or to anyone)."""
    under_rotation()
    admin = user_with_key("admin", secret="opskit/iam/admin")
    boto3.client("secretsmanager").put_secret_value(
        SecretId=SAMPLE_ARN, SecretString=json.dumps(admin), VersionStages=["AWSCURRENT"])
    api_calls.reset()
    with pytest.raises(RotationError, match="the value names another user than ci-deployer"):
        step("createSecret", lambda_context)
    assert keys("admin") == {admin["AccessKeyId"]: "Active"}
    assert api_calls.of("iam", "CreateAccessKey") == 0
    assert admin["SecretAccessKey"] not in capsys.readouterr().out


def test_a_secret_tagged_with_a_user_that_does_not_name_it_back_is_refused(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    """Tagging a secret `opskit:iam-user=admin` is not enough: admin must name the secret."""
    admin = user_with_key("admin", secret="opskit/iam/admin")
    arn = secret_for(admin, name="opskit/iam/sneaky", user="admin", bind=False)
    start_rotation(arn)
    api_calls.reset()
    with pytest.raises(RotationError, match=r"user's tag opskit:rotation-secret names another "
                                            r"secret"):
        step("createSecret", lambda_context, arn=arn)
    assert api_calls.of("iam", "CreateAccessKey") == 0
    assert keys("admin") == {admin["AccessKeyId"]: "Active"}


def test_a_secret_without_the_user_tag_is_refused_by_the_code_as_by_iam() -> None:
    """The role cannot even read such a secret (its statement needs the tag); the code refuses
    it as well, before any IAM call."""
    from access_key_rotation.binding import bound_user

    asked: list[str] = []
    with pytest.raises(RotationError, match="has no tag opskit:iam-user naming its user"):
        bound_user({"Name": "opskit/iam/untagged", "Tags": []}, lambda u: asked.append(u) or {})
    assert asked == []


@pytest.mark.parametrize(("tags", "message"), [
    ([{"Key": "opskit:iam-user", "Value": "no such user!"}], "is not an IAM user name"),
    ([{"Key": "opskit:iam-user", "Value": "ghost"}], "user ghost does not exist"),
])
def test_a_secret_without_a_valid_user_tag_is_refused(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls, tags: list[dict[str, str]],
        message: str) -> None:
    value = user_with_key()
    sm = boto3.client("secretsmanager")
    arn = sm.create_secret(Name="opskit/iam/untagged", SecretString=json.dumps(value),
                           Tags=tags)["ARN"]
    start_rotation(arn)
    api_calls.reset()
    with pytest.raises(RotationError, match=message):
        step("createSecret", lambda_context, arn=arn)
    assert api_calls.of("iam", "CreateAccessKey") == 0


def test_a_key_that_is_not_the_users_is_refused(lambda_context: FakeLambdaContext,
                                                api_calls: ApiCalls) -> None:
    arn, value = under_rotation()
    other = user_with_key("someone-else", secret="opskit/iam/someone-else")
    boto3.client("secretsmanager").put_secret_value(
        SecretId=arn, VersionStages=["AWSCURRENT"],
        SecretString=json.dumps({**value, "AccessKeyId": other["AccessKeyId"]}))
    api_calls.reset()
    with pytest.raises(RotationError, match=rf"key {other['AccessKeyId']} in secret .* is not a "
                                            r"key of user ci-deployer"):
        step("createSecret", lambda_context)
    assert api_calls.of("iam", "CreateAccessKey") == 0


def test_a_user_tagged_with_the_secrets_name_only_is_refused(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    """A name can be reused (another region, or after a deletion): only the ARN binds."""
    arn, _ = under_rotation()
    boto3.client("iam").tag_user(UserName=USER, Tags=[
        {"Key": "opskit:rotation-secret", "Value": "opskit/iam/ci-deployer"}])
    api_calls.reset()
    with pytest.raises(RotationError, match="names another secret"):
        step("createSecret", lambda_context, arn=arn)
    assert api_calls.of("iam", "CreateAccessKey") == 0
