"""The RDS backup on moto: names and idempotence, clusters, retention, exports, copies, quota."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import boto3
import pytest

from rds_backup import app
from rds_backup.naming import MANAGED_BY, MANAGED_BY_KEY
from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext, load_event
from tests.rds_backup.seed import (
    NIGHTLY,
    fake_quotas,
    make_cluster,
    make_instance,
    our_snapshot,
    sample_databases,
)

NIGHT = load_event("rds_backup/nightly-backup.json")  # 2026-11-23T01:00:00Z
RECONCILE = load_event("rds_backup/hourly-reconcile.json")
TODAY = date(2026, 11, 23)
EXPORT_ENV = {"EXPORT_BUCKET": "acme-rds-exports", "EXPORT_PREFIX": "exports",
              "EXPORT_ROLE_ARN": "arn:aws:iam::123456789012:role/opskit-rds-export",
              "EXPORT_KMS_KEY_ARN": "arn:aws:kms:eu-west-1:123456789012:key/"
                                    "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"}


@pytest.fixture(autouse=True)
def _live(monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> Iterator[None]:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    with fake_quotas():
        yield


def handle(event: dict[str, Any], context: FakeLambdaContext) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(event, context)
    return result


def snapshots(region: str = "eu-west-1") -> dict[str, dict[str, str]]:
    rds = boto3.client("rds", region_name=region)
    found = {s["DBSnapshotIdentifier"]: {t["Key"]: t["Value"] for t in s.get("TagList", [])}
             for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]}
    found.update({s["DBClusterSnapshotIdentifier"]: {t["Key"]: t["Value"]
                                                      for t in s.get("TagList", [])}
                  for s in rds.describe_db_cluster_snapshots(
                      SnapshotType="manual")["DBClusterSnapshots"]})
    return found


def writes(api_calls: ApiCalls) -> list[str]:
    return sorted(op for (svc, op), n in api_calls.counts.items() for _ in range(n)
                  if svc == "rds" and not op.startswith("Describe"))


def test_one_snapshot_per_selected_database_named_by_day_and_tagged_as_ours(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls) -> None:
    orders = make_instance("orders", NIGHTLY)
    make_cluster("billing", NIGHTLY)
    make_instance("billing-1", NIGHTLY, cluster="billing")
    make_instance("scratch")
    api_calls.reset()
    result = handle(NIGHT, lambda_context)
    assert result["counts"] == {"done": 2, "planned": 0, "skipped": 1, "failed": 0}
    assert writes(api_calls) == ["CreateDBClusterSnapshot", "CreateDBSnapshot"]
    taken = snapshots()
    assert set(taken) == {"opskit-orders-2026-11-23", "opskit-billing-2026-11-23"}
    assert taken["opskit-orders-2026-11-23"] == {
        MANAGED_BY_KEY: MANAGED_BY, "opskit:source": orders,
        "opskit:created-at": "2026-11-23T01:00:00+00:00", "opskit:retention-days": "30"}
    assert result["targets"][0]["title"] == "RDS backup: took 2 snapshot(s)"


def test_a_second_run_the_same_day_is_a_no_op(lambda_context: FakeLambdaContext,
                                               api_calls: ApiCalls,
                                               alert_inbox: AlertInbox) -> None:
    make_instance("orders", NIGHTLY)
    handle(NIGHT, lambda_context)
    api_calls.reset()
    result = handle(NIGHT, lambda_context)
    assert result["counts"]["done"] == 0
    assert writes(api_calls) == []
    assert alert_inbox.received() == []  # routine success is quiet; only failures are sent


def test_success_reports_when_asked(lambda_context: FakeLambdaContext,
                                    monkeypatch: pytest.MonkeyPatch,
                                    alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("REPORT_SUCCESS", "true")
    make_instance("orders", NIGHTLY)
    handle(NIGHT, lambda_context)
    (report,) = alert_inbox.received()
    assert (report["title"], report["severity"]) == ("RDS backup: took 1 snapshot(s)", "info")


def test_the_aurora_member_is_covered_by_its_cluster(lambda_context: FakeLambdaContext,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    make_cluster("billing", NIGHTLY)
    make_instance("billing-1", NIGHTLY, cluster="billing")
    handle(NIGHT, lambda_context)
    (report,) = alert_inbox.received()
    outcomes = {(a["resource"], a["resource_type"], a["status"], a["details"].get("note"))
                for a in report["actions"]}
    assert outcomes == {
        ("billing", "rds:cluster", "planned", None),
        ("billing-1", "rds:db", "skipped", "member of cluster billing (backed up there)")}
    assert report["title"] == "RDS backup (dry-run): would take 1 snapshot(s)"


def test_selection_by_identifier_pattern_and_tag(lambda_context: FakeLambdaContext,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELECTOR_TAG", "none")
    monkeypatch.setenv("IDENTIFIER_PATTERN", "prod-.*")
    make_instance("prod-orders")
    make_instance("staging-orders", NIGHTLY)
    handle(NIGHT, lambda_context)
    assert set(snapshots()) == {"opskit-prod-orders-2026-11-23"}


def test_a_selector_that_matches_nothing_is_reported(lambda_context: FakeLambdaContext,
                                                     alert_inbox: AlertInbox) -> None:
    make_instance("scratch")
    result = handle(NIGHT, lambda_context)
    assert result["counts"]["done"] == 0
    (report,) = alert_inbox.received()
    assert report["severity"] == "warning"
    assert report["notes"] == ["no database matches tag Backup=nightly: nothing was backed up"]


def test_retention_keeps_the_newest_and_deletes_only_our_old_snapshots(
        lambda_context: FakeLambdaContext, api_calls: ApiCalls,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETENTION_DAYS", "30")
    monkeypatch.setenv("KEEP_LAST", "3")
    make_instance("orders", NIGHTLY)
    make_instance("archive")  # no longer selected: its old snapshots still expire
    for days in (1, 10, 29, 31, 45):
        our_snapshot("orders", TODAY - timedelta(days=days))
    for days in (40, 50, 60, 70):
        our_snapshot("archive", TODAY - timedelta(days=days))
    our_snapshot("orders", TODAY - timedelta(days=90), retention=365)  # its own retention wins
    rds = boto3.client("rds")
    rds.create_db_snapshot(DBSnapshotIdentifier="manual-before-upgrade",
                           DBInstanceIdentifier="orders")  # someone else's: never touched
    rds.create_db_snapshot(DBSnapshotIdentifier="opskit-orders-2020-01-01",
                           DBInstanceIdentifier="orders")  # our name, not our tag: untouched
    api_calls.reset()
    handle(NIGHT, lambda_context)
    left = set(snapshots())
    assert left == {
        "opskit-orders-2026-11-23", "opskit-orders-2026-11-22", "opskit-orders-2026-11-13",
        "opskit-orders-2026-10-25", "opskit-orders-2026-08-25",
        "opskit-archive-2026-10-14", "opskit-archive-2026-10-04", "opskit-archive-2026-09-24",
        "manual-before-upgrade", "opskit-orders-2020-01-01"}
    assert api_calls.of("rds", "DeleteDBSnapshot") == 3  # 31 and 45 days, archive's 70


def test_exports_start_within_the_free_slots_and_failures_are_reported_once(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        api_calls: ApiCalls, alert_inbox: AlertInbox) -> None:
    for key, value in EXPORT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MAX_CONCURRENT_EXPORTS", "3")
    make_instance("orders", NIGHTLY)
    names = [our_snapshot("orders", TODAY - timedelta(days=d)) for d in range(1, 6)]
    api_calls.reset()
    result = handle(RECONCILE, lambda_context)
    assert api_calls.of("rds", "StartExportTask") == 3
    assert result["counts"] == {"done": 3, "planned": 0, "skipped": 2, "failed": 0}
    tasks = boto3.client("rds").describe_export_tasks()["ExportTasks"]
    assert {t["ExportTaskIdentifier"] for t in tasks} == set(sorted(names)[:3])
    task = tasks[0]
    assert (task["S3Bucket"], task["S3Prefix"], task["IamRoleArn"], task["KmsKeyId"]) == (
        "acme-rds-exports", "exports", EXPORT_ENV["EXPORT_ROLE_ARN"],
        EXPORT_ENV["EXPORT_KMS_KEY_ARN"])
    assert alert_inbox.received() == []  # skipped for lack of slots: the next reconcile


def test_a_failed_export_is_reported_once(lambda_context: FakeLambdaContext,
                                          monkeypatch: pytest.MonkeyPatch,
                                          alert_inbox: AlertInbox) -> None:
    from rds_backup.inventory import ExportTask, RdsReader

    for key, value in EXPORT_ENV.items():
        monkeypatch.setenv(key, value)
    make_instance("orders", NIGHTLY)
    name = our_snapshot("orders", TODAY - timedelta(days=1))
    monkeypatch.setattr(RdsReader, "export_tasks", lambda self: [
        ExportTask(name, "arn", "FAILED", "The IAM role cannot write to the bucket")])
    handle(RECONCILE, lambda_context)
    (report,) = alert_inbox.received()
    assert report["severity"] == "critical"
    (action,) = report["actions"]
    assert action["details"]["note"] == ("export failed: The IAM role cannot write to the "
                                         "bucket")
    assert snapshots()[name]["opskit:export-failed"] == "2026-11-23T02:15:00+00:00"
    handle(RECONCILE, lambda_context)
    assert alert_inbox.received() == []


def test_an_export_refused_at_the_start_is_reported_once(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    from botocore.exceptions import ClientError

    from rds_backup import backup

    def refuse(self: Any, export: Any, batch: Any) -> None:
        raise ClientError({"Error": {"Code": "KMSKeyNotAccessibleFault", "Message": "no key"}},
                          "StartExportTask")

    for key, value in EXPORT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(backup.Actuator, "export", refuse)
    make_instance("orders", NIGHTLY)
    name = our_snapshot("orders", TODAY - timedelta(days=1))
    handle(RECONCILE, lambda_context)
    (report,) = alert_inbox.received()
    assert report["actions"][0]["details"]["note"].startswith("KMSKeyNotAccessibleFault")
    assert "opskit:export-failed" in snapshots()[name]
    handle(RECONCILE, lambda_context)
    assert alert_inbox.received() == []


def test_dr_copies_respect_slots_and_keep_our_tags(lambda_context: FakeLambdaContext,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   api_calls: ApiCalls) -> None:
    monkeypatch.setenv("DR_REGION", "eu-central-1")
    monkeypatch.setenv("MAX_CONCURRENT_EXPORTS", "2")
    make_instance("orders", NIGHTLY)
    for days in range(1, 4):
        our_snapshot("orders", TODAY - timedelta(days=days))
    api_calls.reset()
    result = handle(RECONCILE, lambda_context)
    assert api_calls.of("rds", "CopyDBSnapshot") == 2
    assert result["counts"]["skipped"] == 1
    copies = snapshots("eu-central-1")
    assert set(copies) == {"opskit-orders-2026-11-20", "opskit-orders-2026-11-21"}
    assert all(tags[MANAGED_BY_KEY] == MANAGED_BY for tags in copies.values())
    api_calls.reset()
    handle(RECONCILE, lambda_context)  # the rest, once slots are free (moto copies instantly)
    assert set(snapshots("eu-central-1")) == {"opskit-orders-2026-11-20",
                                              "opskit-orders-2026-11-21",
                                              "opskit-orders-2026-11-22"}


def test_the_snapshot_quota_refuses_what_does_not_fit_and_warns_near_it(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox) -> None:
    for name in ("a-db", "b-db", "c-db"):
        make_instance(name, NIGHTLY)
    with fake_quotas(used=98, maximum=100):
        result = handle(NIGHT, lambda_context)
    assert result["counts"] == {"done": 2, "planned": 0, "skipped": 0, "failed": 1}
    (report,) = alert_inbox.received()
    failed = [a for a in report["actions"] if a["status"] == "failed"]
    assert [a["resource"] for a in failed] == ["c-db"]
    assert failed[0]["details"]["note"].startswith("manual snapshot quota reached (98 of 100")
    assert report["notes"] == [
        "cluster manual snapshot quota: 98 of 100 used after tonight (warning at 90%)",
        "instance manual snapshot quota: 100 of 100 used after tonight (warning at 90%)"]


def test_dry_run_plans_everything_and_changes_nothing(lambda_context: FakeLambdaContext,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      api_calls: ApiCalls,
                                                      alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    monkeypatch.setenv("DR_REGION", "eu-central-1")
    for key, value in EXPORT_ENV.items():
        monkeypatch.setenv(key, value)
    sample_databases()
    our_snapshot("orders", TODAY - timedelta(days=60))
    api_calls.reset()
    result = handle(NIGHT, lambda_context)
    assert writes(api_calls) == []
    assert result["counts"]["done"] == 0
    (report,) = alert_inbox.received()
    assert report["title"] == ("RDS backup (dry-run): would take 2 snapshot(s), start 5 "
                               "export(s), start 5 DR copy(ies), delete 1 old snapshot(s)")
    # The snapshot it would delete is neither exported nor copied.
    doomed = {a["resource"] for a in report["actions"] if a["action"] == "delete-snapshot"}
    assert doomed == {"opskit-orders-2026-09-24"}
    assert not doomed & {a["resource"] for a in report["actions"]
                         if a["action"] in {"start-export", "copy-to-dr"}}
