"""The RDS backup on moto: names and idempotence, clusters, retention, exports, copies, quota,
and ownership proven by tags (same identifiers in two regions, names taken by others, the
re-read before each deletion).

Every test runs with the clock frozen at the nightly event's time, and moved to each event's
time when it is handled: the run's clock is the Lambda's."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import boto3
import pytest
import time_machine

from rds_backup import app
from rds_backup.inventory import QUOTA_NAMES, Quota, RdsReader
from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext, load_event
from tests.rds_backup.seed import (
    DR_REGION,
    NIGHTLY,
    REGION,
    database_arn,
    fake_quotas,
    make_cluster,
    make_instance,
    our_copy,
    our_snapshot,
    our_tags,
    sample_databases,
    taken_on,
)

NIGHT = load_event("rds_backup/nightly-backup.json")  # 2026-11-23T01:00:00Z
RECONCILE = load_event("rds_backup/hourly-reconcile.json")  # 02:15
TODAY = date(2026, 11, 23)
MANAGED_BY_KEY, MANAGED_BY = "opskit:managed-by", "opskit-rds-backup"
Run = Callable[[dict[str, Any]], dict[str, Any]]
EXPORT_ENV = {"EXPORT_BUCKET": "acme-rds-exports", "EXPORT_PREFIX": "exports",
              "EXPORT_ROLE_ARN": "arn:aws:iam::123456789012:role/opskit-rds-export",
              "EXPORT_KMS_KEY_ARN": "arn:aws:kms:eu-west-1:123456789012:key/"
                                    "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"}


def event_time(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["time"]))


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Coordinates]:
    """The whole test at the night's time (what it makes and reads shares one clock)."""
    with time_machine.travel(event_time(NIGHT), tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _live(clock: time_machine.Coordinates, monkeypatch: pytest.MonkeyPatch,
          alert_inbox: AlertInbox) -> Iterator[None]:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    with fake_quotas():
        yield


@pytest.fixture
def run(clock: time_machine.Coordinates, lambda_context: FakeLambdaContext) -> Run:
    """Handle an event at its own time (the clock moves forward to it and stays there)."""
    def handle(event: dict[str, Any]) -> dict[str, Any]:
        clock.move_to(event_time(event))
        result: dict[str, Any] = app.lambda_handler(event, lambda_context)
        return result
    return handle


def at(event: dict[str, Any], when: str) -> dict[str, Any]:
    return {**event, "time": when}


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
        run: Run, api_calls: ApiCalls) -> None:
    orders = make_instance("orders", NIGHTLY)
    make_cluster("billing", NIGHTLY)
    make_instance("billing-1", NIGHTLY, cluster="billing")
    make_instance("scratch")
    api_calls.reset()
    result = run(NIGHT)
    assert result["counts"] == {"done": 2, "planned": 0, "skipped": 1, "failed": 0}
    assert writes(api_calls) == ["CreateDBClusterSnapshot", "CreateDBSnapshot"]
    taken = snapshots()
    assert set(taken) == {"opskit-orders-2026-11-23", "opskit-billing-2026-11-23"}
    assert taken["opskit-orders-2026-11-23"] == {
        MANAGED_BY_KEY: MANAGED_BY, "opskit:source": orders,
        "opskit:source-region": "eu-west-1", "opskit:source-account": "123456789012",
        "opskit:backup-type": "home",
        "opskit:created-at": "2026-11-23T01:00:00+00:00", "opskit:retention-days": "30"}
    assert result["targets"][0]["title"] == "RDS backup: took 2 snapshot(s)"


def test_a_second_run_the_same_day_is_a_no_op(run: Run,
                                               api_calls: ApiCalls,
                                               alert_inbox: AlertInbox) -> None:
    make_instance("orders", NIGHTLY)
    run(NIGHT)
    api_calls.reset()
    result = run(NIGHT)
    assert result["counts"]["done"] == 0
    assert writes(api_calls) == []
    assert alert_inbox.received() == []  # routine success is quiet; only failures are sent


def test_success_reports_when_asked(run: Run,
                                    monkeypatch: pytest.MonkeyPatch,
                                    alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("REPORT_SUCCESS", "true")
    make_instance("orders", NIGHTLY)
    run(NIGHT)
    (report,) = alert_inbox.received()
    assert (report["title"], report["severity"]) == ("RDS backup: took 1 snapshot(s)", "info")


def test_the_aurora_member_is_covered_by_its_cluster(run: Run,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    make_cluster("billing", NIGHTLY)
    make_instance("billing-1", NIGHTLY, cluster="billing")
    run(NIGHT)
    (report,) = alert_inbox.received()
    outcomes = {(a["resource"], a["resource_type"], a["status"], a["details"].get("note"))
                for a in report["actions"]}
    assert outcomes == {
        ("billing", "rds:cluster", "planned", None),
        ("billing-1", "rds:db", "skipped", "member of cluster billing (backed up there)")}
    assert report["title"] == "RDS backup (dry-run): would take 1 snapshot(s)"


def test_selection_by_identifier_pattern_and_tag(run: Run,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELECTOR_TAG", "none")
    monkeypatch.setenv("IDENTIFIER_PATTERN", "prod-.*")
    make_instance("prod-orders")
    make_instance("staging-orders", NIGHTLY)
    run(NIGHT)
    assert set(snapshots()) == {"opskit-prod-orders-2026-11-23"}


def test_a_selector_that_matches_nothing_is_reported(run: Run,
                                                     alert_inbox: AlertInbox) -> None:
    make_instance("scratch")
    result = run(NIGHT)
    assert result["counts"]["done"] == 0
    (report,) = alert_inbox.received()
    assert report["severity"] == "warning"
    assert report["notes"] == ["no database matches tag Backup=nightly: nothing was backed up"]


def test_retention_keeps_the_newest_and_deletes_only_our_old_snapshots(
        run: Run, api_calls: ApiCalls,
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
    run(NIGHT)
    left = set(snapshots())
    assert left == {
        "opskit-orders-2026-11-23", "opskit-orders-2026-11-22", "opskit-orders-2026-11-13",
        "opskit-orders-2026-10-25", "opskit-orders-2026-08-25",
        "opskit-archive-2026-10-14", "opskit-archive-2026-10-04", "opskit-archive-2026-09-24",
        "manual-before-upgrade", "opskit-orders-2020-01-01"}
    assert api_calls.of("rds", "DeleteDBSnapshot") == 3  # 31 and 45 days, archive's 70


def test_exports_start_within_the_free_slots_and_failures_are_reported_once(
        run: Run, monkeypatch: pytest.MonkeyPatch,
        api_calls: ApiCalls, alert_inbox: AlertInbox) -> None:
    for key, value in EXPORT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MAX_CONCURRENT_EXPORTS", "3")
    make_instance("orders", NIGHTLY)
    names = [our_snapshot("orders", TODAY - timedelta(days=d)) for d in range(1, 6)]
    api_calls.reset()
    result = run(RECONCILE)
    assert api_calls.of("rds", "StartExportTask") == 3
    assert result["counts"] == {"done": 3, "planned": 0, "skipped": 2, "failed": 0}
    tasks = boto3.client("rds").describe_export_tasks()["ExportTasks"]
    assert {t["ExportTaskIdentifier"] for t in tasks} == set(sorted(names)[:3])
    task = tasks[0]
    assert (task["S3Bucket"], task["S3Prefix"], task["IamRoleArn"], task["KmsKeyId"]) == (
        "acme-rds-exports", "exports", EXPORT_ENV["EXPORT_ROLE_ARN"],
        EXPORT_ENV["EXPORT_KMS_KEY_ARN"])
    assert alert_inbox.received() == []  # skipped for lack of slots: the next reconcile


def test_a_failed_export_is_reported_once(run: Run,
                                          monkeypatch: pytest.MonkeyPatch,
                                          alert_inbox: AlertInbox) -> None:
    from rds_backup.inventory import ExportTask, RdsReader

    for key, value in EXPORT_ENV.items():
        monkeypatch.setenv(key, value)
    make_instance("orders", NIGHTLY)
    name = our_snapshot("orders", TODAY - timedelta(days=1))
    monkeypatch.setattr(RdsReader, "export_tasks", lambda self: [
        ExportTask(name, "arn", "FAILED", "The IAM role cannot write to the bucket")])
    run(RECONCILE)
    (report,) = alert_inbox.received()
    assert report["severity"] == "critical"
    (action,) = report["actions"]
    assert action["details"]["note"] == ("export failed: The IAM role cannot write to the "
                                         "bucket")
    assert snapshots()[name]["opskit:export-failed"] == "2026-11-23T02:15:00+00:00"
    run(RECONCILE)
    assert alert_inbox.received() == []


def test_an_export_refused_at_the_start_is_reported_once(
        run: Run, monkeypatch: pytest.MonkeyPatch,
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
    run(RECONCILE)
    (report,) = alert_inbox.received()
    assert report["actions"][0]["details"]["note"].startswith("KMSKeyNotAccessibleFault")
    assert "opskit:export-failed" in snapshots()[name]
    run(RECONCILE)
    assert alert_inbox.received() == []


def test_dr_copies_respect_slots_and_keep_our_tags(run: Run,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   api_calls: ApiCalls) -> None:
    monkeypatch.setenv("DR_REGION", "eu-central-1")
    monkeypatch.setenv("MAX_CONCURRENT_EXPORTS", "2")
    make_instance("orders", NIGHTLY)
    for days in range(1, 4):
        our_snapshot("orders", TODAY - timedelta(days=days))
    api_calls.reset()
    result = run(RECONCILE)
    assert api_calls.of("rds", "CopyDBSnapshot") == 2
    assert result["counts"]["skipped"] == 1
    copies = snapshots("eu-central-1")
    # Named after the snapshot and its region; tagged as a DR copy of the same database and
    # night (written, not copied with CopyTags: a copy never passes for a home snapshot).
    assert set(copies) == {"opskit-orders-2026-11-20-eu-west-1",
                           "opskit-orders-2026-11-21-eu-west-1"}
    assert copies["opskit-orders-2026-11-20-eu-west-1"] == our_tags(
        database_arn("orders"), taken_on(date(2026, 11, 20)), backup_type="dr-copy")
    api_calls.reset()
    run(RECONCILE)  # the rest, once slots are free (moto copies instantly)
    assert set(snapshots("eu-central-1")) == {"opskit-orders-2026-11-20-eu-west-1",
                                              "opskit-orders-2026-11-21-eu-west-1",
                                              "opskit-orders-2026-11-22-eu-west-1"}
    api_calls.reset()
    run(RECONCILE)  # every copy is found by its tags: nothing more
    assert writes(api_calls) == []


def test_the_snapshot_quota_refuses_what_does_not_fit_and_warns_near_it(
        run: Run, alert_inbox: AlertInbox) -> None:
    for name in ("a-db", "b-db", "c-db"):
        make_instance(name, NIGHTLY)
    with fake_quotas(used=98, maximum=100):
        result = run(NIGHT)
    assert result["counts"] == {"done": 2, "planned": 0, "skipped": 0, "failed": 1}
    (report,) = alert_inbox.received()
    failed = [a for a in report["actions"] if a["status"] == "failed"]
    assert [a["resource"] for a in failed] == ["c-db"]
    assert failed[0]["details"]["note"].startswith("manual snapshot quota reached (98 of 100")
    assert report["notes"] == [
        "cluster manual snapshot quota: 98 of 100 used after tonight (warning at 90%)",
        "instance manual snapshot quota: 100 of 100 used after tonight (warning at 90%)"]


def test_dry_run_plans_everything_and_changes_nothing(run: Run,
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
    result = run(NIGHT)
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


# ------------------------------------------------------------ ownership is proven by tags
def snapshot_tags(name: str, region: str = REGION) -> dict[str, str]:
    return snapshots(region)[name]


def backups_of(arn: str, backup_type: str, region: str) -> dict[str, dict[str, str]]:
    """The snapshots of `region` tagged as ours for the database `arn`."""
    return {name: tags for name, tags in snapshots(region).items()
            if tags.get("opskit:source") == arn and tags.get("opskit:backup-type") == backup_type}


def test_the_dr_regions_own_snapshot_of_a_same_named_database_does_not_hide_the_missing_copy(
        run: Run, monkeypatch: pytest.MonkeyPatch, api_calls: ApiCalls) -> None:
    monkeypatch.setenv("DR_REGION", DR_REGION)
    make_instance("orders", NIGHTLY)
    make_instance("orders", NIGHTLY, region=DR_REGION)  # another database, same identifier
    yesterday = TODAY - timedelta(days=1)
    ours = our_snapshot("orders", yesterday)
    theirs = our_snapshot("orders", yesterday, region=DR_REGION)  # that region's own backup
    assert ours == theirs == "opskit-orders-2026-11-22"
    api_calls.reset()
    result = run(RECONCILE)
    assert api_calls.of("rds", "CopyDBSnapshot") == 1
    assert result["counts"]["done"] == 1
    copies = backups_of(database_arn("orders"), "dr-copy", DR_REGION)
    assert list(copies.values()) == [our_tags(database_arn("orders"), taken_on(yesterday),
                                              backup_type="dr-copy")]
    assert snapshot_tags(theirs, DR_REGION) == our_tags(
        database_arn("orders", region=DR_REGION), taken_on(yesterday))  # untouched


def test_a_copy_that_arrived_first_does_not_count_as_the_dr_regions_own_snapshot(
        run: Run, monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> None:
    """Tonight's copy from eu-west-1 reached eu-central-1 before that region's own snapshot of
    its `orders` was taken (it was busy at 01:00): the re-run of the night still takes it."""
    monkeypatch.setenv("TARGET_REGIONS", f"{REGION},{DR_REGION}")
    monkeypatch.setenv("DR_REGION", DR_REGION)
    make_instance("orders", NIGHTLY)
    make_instance("orders", NIGHTLY, region=DR_REGION)
    our_snapshot("orders", TODAY)  # taken at 01:00 in eu-west-1
    run(RECONCILE)  # 02:15: copied to eu-central-1
    assert [tags["opskit:source"] for tags in snapshots(DR_REGION).values()] == [
        database_arn("orders")]
    run(at(NIGHT, "2026-11-23T03:00:00Z"))  # the night's run again, by hand
    dr_orders = database_arn("orders", region=DR_REGION)
    (tags,) = backups_of(dr_orders, "home", DR_REGION).values()
    assert tags["opskit:created-at"] == "2026-11-23T03:00:00+00:00"
    assert alert_inbox.received() == []  # no name conflict: a copy has a name of its own


def test_keep_last_counts_only_the_backups_of_that_database_in_that_region(
        run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """eu-central-1's own `orders` was deleted: its last 3 snapshots are kept for ever, though
    newer copies of eu-west-1's `orders` (same identifier) land in that region every night."""
    monkeypatch.setenv("TARGET_REGIONS", f"{REGION},{DR_REGION}")
    monkeypatch.setenv("DR_REGION", DR_REGION)
    monkeypatch.setenv("RETENTION_DAYS", "30")
    monkeypatch.setenv("KEEP_LAST", "3")
    make_instance("orders", NIGHTLY)
    make_instance("orders", NIGHTLY, region=DR_REGION)
    last = {our_snapshot("orders", TODAY - timedelta(days=d), region=DR_REGION)
            for d in (60, 70, 80)}
    boto3.client("rds", region_name=DR_REGION).delete_db_instance(
        DBInstanceIdentifier="orders", SkipFinalSnapshot=True)
    for days in (1, 2, 3, 40, 50):
        our_snapshot("orders", TODAY - timedelta(days=days))
        our_copy("orders", TODAY - timedelta(days=days))
    run(NIGHT)
    assert set(snapshots(DR_REGION)) == last | {
        f"opskit-orders-2026-11-{d}-eu-west-1" for d in (20, 21, 22)}
    assert set(snapshots()) == {f"opskit-orders-2026-11-{d}" for d in (20, 21, 22, 23)}


def test_a_foreign_snapshot_with_our_name_is_a_critical_conflict_and_the_backup_is_still_taken(
        run: Run, api_calls: ApiCalls, alert_inbox: AlertInbox) -> None:
    orders = make_instance("orders", NIGHTLY)
    make_instance("legacy")
    rds = boto3.client("rds")
    rds.create_db_snapshot(DBSnapshotIdentifier="opskit-orders-2026-11-23",
                           DBInstanceIdentifier="legacy")  # someone else's, named like ours
    result = run(NIGHT)
    other = f"opskit-orders-2026-11-23-{hashlib.sha256(orders.encode()).hexdigest()[:8]}"
    assert result["counts"] == {"done": 1, "planned": 0, "skipped": 0, "failed": 0}
    assert snapshot_tags(other) == our_tags(orders, taken_on(TODAY))
    assert snapshot_tags("opskit-orders-2026-11-23") == {}  # theirs, untouched
    (report,) = alert_inbox.received()
    assert report["severity"] == "critical"
    assert report["title"] == "RDS backup: took 1 snapshot(s); 1 name conflict(s)"
    assert report["conflicts"] == [
        f"opskit-orders-2026-11-23 in eu-west-1 is taken by a snapshot of legacy without our "
        f"tags: the backup of orders is named {other} instead"]
    api_calls.reset()
    run(NIGHT)  # idempotent: the backup is found by its tags, under its other name
    assert writes(api_calls) == []
    assert alert_inbox.received() == []


def meanwhile(change: Callable[[], None]) -> Any:
    """The quota read (after the listing, before any write) also lets `change` happen,
    made by someone else: from another thread, so the automation is not on its stack."""
    quotas = {kind: Quota(40, 100) for kind in QUOTA_NAMES}

    def read(self: RdsReader) -> dict[str, Quota]:
        other = threading.Thread(target=change)
        other.start()
        other.join()
        return quotas

    return read


def test_a_name_taken_after_the_listing_fails_the_backup_instead_of_counting_as_taken(
        run: Run, monkeypatch: pytest.MonkeyPatch, alert_inbox: AlertInbox) -> None:
    make_instance("orders", NIGHTLY)
    make_instance("legacy")
    monkeypatch.setattr(RdsReader, "quotas", meanwhile(
        lambda: boto3.client("rds").create_db_snapshot(
            DBSnapshotIdentifier="opskit-orders-2026-11-23", DBInstanceIdentifier="legacy")))
    result = run(NIGHT)
    assert result["counts"]["failed"] == 1
    (report,) = alert_inbox.received()
    assert report["severity"] == "critical"
    assert report["actions"][0]["details"]["note"].startswith("DBSnapshotAlreadyExists")


def test_a_snapshot_without_our_full_ownership_tags_is_never_counted_nor_deleted(
        run: Run, alert_inbox: AlertInbox) -> None:
    """Snapshots tagged only opskit:managed-by and opskit:source (as before the ownership
    tags) are not proven ours: not tonight's backup, never counted nor deleted."""
    orders = make_instance("orders", NIGHTLY)
    partial = {"opskit:managed-by": "opskit-rds-backup", "opskit:source": orders,
               "opskit:retention-days": "30"}
    old = [our_snapshot("orders", TODAY - timedelta(days=d),
                        tags={**partial, "opskit:created-at": taken_on(
                            TODAY - timedelta(days=d)).isoformat()})
           for d in (0, 1, 2, 3, 60)]
    run(NIGHT)
    left = snapshots()
    assert set(old) < set(left)
    (ours,) = backups_of(orders, "home", REGION)
    assert ours.startswith("opskit-orders-2026-11-23-")
    (report,) = alert_inbox.received()
    assert report["conflicts"][0].startswith(
        "opskit-orders-2026-11-23 in eu-west-1 is taken by a snapshot of orders without our tags")


def tag(name: str, key: str, value: str) -> Callable[[], None]:
    arn = f"arn:aws:rds:{REGION}:123456789012:snapshot:{name}"
    return lambda: boto3.client("rds").add_tags_to_resource(
        ResourceName=arn, Tags=[{"Key": key, "Value": value}])


def delete(name: str) -> Callable[[], None]:
    return lambda: boto3.client("rds").delete_db_snapshot(DBSnapshotIdentifier=name)


EXPIRED, NEWEST = "opskit-orders-2026-10-09", "opskit-orders-2026-11-22"


@pytest.mark.parametrize(("change", "note"), [
    (tag(EXPIRED, "opskit:retention-days", "365"),
     "no longer older than its retention (365 days) when read again: kept"),
    (tag(EXPIRED, "opskit:source", database_arn("billing")),
     "its ownership tags changed since it was listed: kept"),
    (tag(EXPIRED, "opskit:exempt", "true"), "exempt: tagged opskit:exempt"),
    (delete(NEWEST), f"{NEWEST}, one of the 3 newest kept, is gone or changed since it was "
                     "listed: kept"),
    (tag(NEWEST, "opskit:backup-type", "dr-copy"),
     f"{NEWEST}, one of the 3 newest kept, is gone or changed since it was listed: kept"),
    (delete(EXPIRED), "gone since it was listed: nothing to delete"),
], ids=["retention raised", "another source", "exempted", "a kept one deleted",
        "a kept one no longer ours", "already gone"])
def test_each_deletion_reads_the_snapshot_again_and_keeps_it_if_anything_changed(
        run: Run, monkeypatch: pytest.MonkeyPatch, api_calls: ApiCalls,
        alert_inbox: AlertInbox, *, change: Callable[[], None], note: str) -> None:
    monkeypatch.setenv("KEEP_LAST", "3")
    monkeypatch.setenv("REPORT_SUCCESS", "true")
    make_instance("orders", NIGHTLY)
    for days in (1, 2, 3, 45):
        our_snapshot("orders", TODAY - timedelta(days=days))
    monkeypatch.setattr(RdsReader, "quotas", meanwhile(change))
    api_calls.reset()
    run(NIGHT)
    assert api_calls.of("rds", "DeleteDBSnapshot") == 0
    (report,) = alert_inbox.received()
    (action,) = [a for a in report["actions"] if a["action"] == "delete-snapshot"]
    assert (action["status"], action["details"]["note"]) == ("skipped", note)
    if "gone" not in note:
        assert EXPIRED in snapshots()
