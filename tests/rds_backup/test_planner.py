"""Pure rules of the backup: ownership proven by tags, DR copies (encrypted, names taken),
export slots, configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from opskit.config import ConfigError
from opskit.events import EventError
from rds_backup import app
from rds_backup.inventory import ExportTask, RegionSnapshots, Snapshot
from rds_backup.naming import (
    BackupType,
    Owner,
    conflict_id,
    export_task_id,
    owner_of,
    snapshot_id,
)
from rds_backup.planner import plan_copies, plan_exports
from rds_backup.settings import BackupConfig
from tests.conftest import FakeLambdaContext, load_event
from tests.rds_backup.seed import database_arn, fake_quotas, our_tags

KEY = "arn:aws:kms:eu-central-1:123456789012:key/5c8e2f10-7a3b-4d6e-9f01-23456789abcd"
NOW = datetime(2026, 11, 23, 1, tzinfo=UTC)
ORDERS = database_arn("orders")
HOME = Owner(ORDERS, "eu-west-1", "123456789012", BackupType.HOME)
NO_DR_COPIES = RegionSnapshots("eu-central-1")


def config(**env: str) -> BackupConfig:
    return BackupConfig.from_env({"AWS_REGION": "eu-west-1", **env})


def snap(name: str, *, encrypted: bool = False, status: str = "available",
         region: str = "eu-west-1", owner: Owner | None = HOME) -> Snapshot:
    return Snapshot("instance", name, f"arn:aws:rds:{region}:123456789012:snapshot:{name}",
                    "orders", status, encrypted, NOW, {}, owner)


def test_an_encrypted_snapshot_is_not_copied_without_a_key_in_the_dr_region() -> None:
    plan = plan_copies([snap("opskit-a-2026-11-22", encrypted=True), snap("opskit-b-2026-11-22")],
                       NO_DR_COPIES, config(DR_REGION="eu-central-1"), "eu-west-1")
    assert [a.resource for a in plan.actions] == ["opskit-b-2026-11-22"]
    ((action, why),) = plan.failed
    assert action.resource == "opskit-a-2026-11-22"
    assert why == ("encrypted snapshot: set DR_KMS_KEY_ARN to a KMS key in eu-central-1 to copy "
                   "it")


def test_with_a_dr_key_encrypted_snapshots_are_copied_with_it() -> None:
    plan = plan_copies([snap("opskit-a-2026-11-22", encrypted=True)], NO_DR_COPIES,
                       config(DR_REGION="eu-central-1", DR_KMS_KEY_ARN=KEY), "eu-west-1")
    assert [a.details["encrypted"] for a in plan.actions] == [True]
    assert plan.failed == []


def test_copies_skip_what_is_there_or_still_being_created() -> None:
    there = snap("opskit-a-2026-11-21")
    copy = snap("opskit-a-2026-11-21-eu-west-1", region="eu-central-1",
                owner=Owner(ORDERS, "eu-west-1", "123456789012", BackupType.DR_COPY))
    plan = plan_copies([there, snap("opskit-b-2026-11-22", status="creating")],
                       RegionSnapshots("eu-central-1", [copy]),
                       config(DR_REGION="eu-central-1"), "eu-west-1")
    assert plan.actions == plan.skipped == plan.failed == []


def test_a_dr_copy_whose_name_is_taken_by_another_snapshot_is_named_otherwise() -> None:
    """A snapshot of the DR region that holds the copy's name is not the copy (only tags say
    that): the copy is still made, under a name derived from the database's ARN, reported."""
    theirs = snap("opskit-a-2026-11-21-eu-west-1", region="eu-central-1", owner=None)
    plan = plan_copies([snap("opskit-a-2026-11-21")], RegionSnapshots("eu-central-1", [theirs]),
                       config(DR_REGION="eu-central-1"), "eu-west-1")
    other = conflict_id("opskit-a-2026-11-21-eu-west-1", ORDERS)
    assert [a.details["copy"] for a in plan.actions] == [other]
    assert plan.conflicts == [
        f"opskit-a-2026-11-21-eu-west-1 in eu-central-1 is taken by a snapshot of orders without "
        f"our tags: the DR copy of opskit-a-2026-11-21 is named {other} instead"]


TAKEN = datetime(2026, 11, 22, 1, tzinfo=UTC)
HOME_TAGS = our_tags(ORDERS, TAKEN)
COPY_TAGS = our_tags(ORDERS, TAKEN, backup_type="dr-copy")
SNAPSHOT = "arn:aws:rds:eu-west-1:123456789012:snapshot:opskit-orders-2026-11-22"
IN_DR = "arn:aws:rds:eu-central-1:123456789012:snapshot:opskit-orders-2026-11-22-eu-west-1"


@pytest.mark.parametrize(("kind", "arn", "tags", "owner"), [
    ("instance", SNAPSHOT, HOME_TAGS, HOME),
    ("instance", IN_DR, COPY_TAGS, Owner(ORDERS, "eu-west-1", "123456789012",
                                         BackupType.DR_COPY)),
    ("instance", SNAPSHOT, {**HOME_TAGS, "opskit:managed-by": "someone"}, None),
    ("instance", SNAPSHOT, {k: v for k, v in HOME_TAGS.items()  # the tags before ownership
                            if k in {"opskit:managed-by", "opskit:source", "opskit:created-at",
                                     "opskit:retention-days"}}, None),
    ("instance", SNAPSHOT, {**HOME_TAGS, "opskit:source-region": "eu-central-1"}, None),
    ("instance", SNAPSHOT, {**HOME_TAGS, "opskit:source-account": "210987654321"}, None),
    ("instance", SNAPSHOT, {**HOME_TAGS, "opskit:created-at": "yesterday"}, None),
    ("instance", SNAPSHOT, {**HOME_TAGS, "opskit:backup-type": "copy"}, None),
    ("instance", SNAPSHOT, COPY_TAGS, None),  # a "copy" in its database's own region
    ("instance", IN_DR, HOME_TAGS, None),  # a "home" snapshot in another region
    ("instance", IN_DR.replace("123456789012", "210987654321"), COPY_TAGS, None),
    ("cluster", SNAPSHOT.replace(":snapshot:", ":cluster-snapshot:"), HOME_TAGS, None),
    ("instance", SNAPSHOT.replace("opskit-orders", "nightly-orders"), HOME_TAGS, None),
])
def test_ownership_is_proven_by_tags_that_agree_with_the_snapshots_own_arn(
        kind: str, arn: str, tags: dict[str, str], owner: Owner | None) -> None:
    """Never a name alone: our tags, complete and consistent with the snapshot's ARN (kind,
    account, and region: a home snapshot in its database's region, a copy elsewhere)."""
    name = arn.rsplit(":", maxsplit=1)[-1]
    assert owner_of(kind, name, arn, "manual", tags) == owner
    assert owner_of(kind, name, arn, "automated", tags) is None


def test_exports_count_every_running_task_of_the_account_against_the_limit() -> None:
    env = {"EXPORT_BUCKET": "exports-bucket",
           "EXPORT_ROLE_ARN": "arn:aws:iam::123456789012:role/export",
           "EXPORT_KMS_KEY_ARN": KEY.replace("eu-central-1", "eu-west-1"),
           "MAX_CONCURRENT_EXPORTS": "2"}
    others = [ExportTask("someone-else", "arn", "IN_PROGRESS")]
    plan = plan_exports([snap("opskit-a-2026-11-21"), snap("opskit-b-2026-11-22")], others,
                        config(**env))
    assert [a.resource for a in plan.actions] == ["opskit-a-2026-11-21"]
    assert [why for _, why in plan.skipped] == [
        "no free export slot (2 at once): the next reconcile starts it"]


def test_names_are_deterministic_and_export_ids_fit_60_characters() -> None:
    name = snapshot_id("a" * 63, NOW.date())
    assert name == f"opskit-{'a' * 63}-2026-11-23"
    task = export_task_id(name)
    assert len(task) <= 60
    assert task == export_task_id(name)
    assert export_task_id("opskit-orders-2026-11-23") == "opskit-orders-2026-11-23"


@pytest.mark.parametrize(("env", "message"), [
    ({"IDENTIFIER_PATTERN": "prod-(["}, "IDENTIFIER_PATTERN='prod-([' is invalid: expected a "
                                        "regular expression"),
    ({"SELECTOR_TAG": "nightly"}, "SELECTOR_TAG='nightly' is invalid: expected Key=Value"),
    ({"SELECTOR_TAG": "none"}, "IDENTIFIER_PATTERN=None is invalid: expected a regular "
                               "expression when SELECTOR_TAG is none"),
    ({"DR_REGION": "eu-west-1"}, "DR_REGION='eu-west-1' is invalid: expected a region other"),
    ({"DR_REGION": "eu-central-1", "DR_KMS_KEY_ARN": KEY.replace("eu-central-1", "us-east-1")},
     "expected a key in DR_REGION (eu-central-1)"),
    ({"DR_KMS_KEY_ARN": KEY}, "expected a key in DR_REGION (unset)"),
    ({"EXPORT_BUCKET": "exports-bucket"}, "EXPORT_ROLE_ARN=None is invalid"),
    ({"EXPORT_BUCKET": "exports-bucket", "EXPORT_ROLE_ARN": "arn:aws:iam::123456789012:role/x",
      "EXPORT_KMS_KEY_ARN": "my-key"}, "EXPORT_KMS_KEY_ARN='my-key' is invalid"),
    ({"KEEP_LAST": "0"}, "KEEP_LAST='0' is invalid: expected an integer in [1, 100]"),
])
def test_bad_configuration_fails_before_any_change(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config(**env)
    assert message in str(info.value)


@pytest.mark.usefixtures("aws")
def test_an_unknown_mode_is_refused_with_the_field(lambda_context: FakeLambdaContext) -> None:
    with pytest.raises(EventError, match=r"detail.mode='snapshot-everything' is invalid"):
        app.lambda_handler(load_event("rds_backup/invalid-mode.json"), lambda_context)


@pytest.mark.usefixtures("aws")
def test_bad_configuration_reaches_no_aws_api(lambda_context: FakeLambdaContext,
                                              monkeypatch: pytest.MonkeyPatch,
                                              api_calls: Any) -> None:
    monkeypatch.setenv("IDENTIFIER_PATTERN", "(")
    boto3.client("rds")
    api_calls.reset()
    with fake_quotas(), pytest.raises(ConfigError):
        app.lambda_handler(load_event("rds_backup/nightly-backup.json"), lambda_context)
    assert api_calls.total == 0
