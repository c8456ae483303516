from __future__ import annotations

from typing import Any

import boto3
import pytest

from opskit.aws import CLIENT_CONFIG, SessionFactory, Target, for_each_target, target_pairs
from opskit.config import CommonConfig
from tests.conftest import ACCOUNT, ApiCalls

OTHER = "222222222222"
THIRD = "333333333333"


def test_clients_use_adaptive_retries() -> None:
    factory = SessionFactory("eu-west-1", "Role", "opskit-test")
    client = factory.base.client("ec2")
    assert client.meta.config.retries["mode"] == "adaptive"
    assert CLIENT_CONFIG.retries is not None
    assert client.meta.config.retries["total_max_attempts"] == 10


def test_target_pairs_default_to_home() -> None:
    config = CommonConfig.from_env("demo", {"AWS_REGION": "eu-west-1"})
    assert target_pairs(config, ACCOUNT) == [(ACCOUNT, "eu-west-1")]
    config = CommonConfig.from_env("demo", {"AWS_REGION": "eu-west-1",
                                            "TARGET_ACCOUNTS": f"{ACCOUNT},{OTHER}",
                                            "TARGET_REGIONS": "eu-west-1,us-east-1"})
    assert target_pairs(config, ACCOUNT) == [(ACCOUNT, "eu-west-1"), (ACCOUNT, "us-east-1"),
                                             (OTHER, "eu-west-1"), (OTHER, "us-east-1")]


@pytest.mark.usefixtures("aws")
def test_fan_out_assumes_roles_once_per_account_and_isolates_failures(api_calls: ApiCalls) -> None:
    factory = SessionFactory("eu-west-1", "OpskitExecutionRole", "opskit-test")
    pairs = [(ACCOUNT, "eu-west-1"), (OTHER, "eu-west-1"), (OTHER, "us-east-1"),
             (THIRD, "eu-west-1")]

    def work(target: Target) -> str:
        if target.account_id == THIRD:
            raise RuntimeError("member role missing")
        identity = target.session.client("sts").get_caller_identity()
        return identity["Account"]

    failed: list[str] = []
    results, failures = for_each_target(pairs, factory, work,
                                        on_failure=lambda f: failed.append(f.account_id))
    assert [(str(t), account) for t, account in results] == [
        (f"{ACCOUNT}/eu-west-1", ACCOUNT), (f"{OTHER}/eu-west-1", OTHER),
        (f"{OTHER}/us-east-1", OTHER)]
    assert [(f.account_id, f.error) for f in failures] == [
        (THIRD, "RuntimeError: member role missing")]
    assert failed == [THIRD]
    # one AssumeRole per other account, cached across regions; one identity call for home
    assert api_calls.of("sts", "AssumeRole") == 2
    assert results[0][0].partition == "aws"


def test_base_session_is_reused() -> None:
    base = boto3.Session(region_name="eu-west-1")
    assert SessionFactory("eu-west-1", "R", "s", base=base).base is base


# ---------------------------------------------------------------- a container's life
class ClientsMade:
    """Counts botocore clients made (each one parses or looks up its service model)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import botocore.session

        self.count = 0
        real = botocore.session.Session.create_client

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return real(session, *args, **kwargs)

        monkeypatch.setattr(botocore.session.Session, "create_client", create_client)


@pytest.mark.usefixtures("aws")
def test_warm_runs_make_no_client_and_assume_no_role_again(
        api_calls: ApiCalls, monkeypatch: pytest.MonkeyPatch) -> None:
    from opskit.actions import Executor
    from opskit.runner import TargetRun, run_automation

    config = CommonConfig.from_env("demo", {
        "AWS_REGION": "eu-west-1", "TARGET_ACCOUNTS": f"{ACCOUNT},{OTHER}",
        "TARGET_REGIONS": "eu-west-1,us-east-1", "ALERT_TOPIC_ARN":
        f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts"})
    boto3.client("sns", region_name="eu-west-1").create_topic(Name="alerts")
    made = ClientsMade(monkeypatch)
    seen: list[str] = []

    def work(target: Target, executor: Executor) -> TargetRun:
        # Every run, every target: its own account's credentials and its own region.
        sts, ec2 = target.session.client("sts"), target.session.client("ec2")
        assert sts.get_caller_identity()["Account"] == target.account_id
        assert ec2.meta.region_name == target.region
        seen.append(str(target))
        return TargetRun(title="ok")

    per_run = []
    for _ in range(3):
        api_calls.reset()
        before = made.count
        summary = run_automation(config, work, run_id="r")
        assert summary["failed_targets"] == []
        assert len(summary["targets"]) == 4
        per_run.append((made.count - before, api_calls.of("sts", "AssumeRole"),
                        api_calls.of("sts", "GetCallerIdentity")))
    # Run 1: sts and ec2 in 4 sessions, sns, and the home sts that asks the function's account
    # once and assumes the other account's role (one client for both); then nothing again. The
    # work's own identity call, 4 a run, is in every count.
    assert per_run == [(10, 1, 5), (0, 0, 4), (0, 0, 4)]
    assert seen == [f"{account}/{region}" for account in (ACCOUNT, OTHER)
                    for region in ("eu-west-1", "us-east-1")] * 3


@pytest.mark.usefixtures("aws")
def test_a_failed_member_account_assumes_its_role_afresh_next_run(api_calls: ApiCalls) -> None:
    """A revoked role session or a replaced role must not fail an account until the kept
    credentials expire: a failed target drops them."""
    from opskit.actions import Executor
    from opskit.runner import TargetRun, run_automation

    config = CommonConfig.from_env("demo", {"AWS_REGION": "eu-west-1",
                                            "TARGET_ACCOUNTS": f"{ACCOUNT},{OTHER}"})
    revoked = [False]

    def work(target: Target, executor: Executor) -> TargetRun:
        if target.account_id == OTHER and revoked[0]:
            raise RuntimeError("An error occurred (InvalidClientTokenId)")
        return TargetRun(title="ok")

    assumed = []
    for revoke in (False, True, False, False):
        revoked[0] = revoke
        api_calls.reset()
        summary = run_automation(config, work, run_id="r")
        assumed.append((api_calls.of("sts", "AssumeRole"), len(summary["failed_targets"])))
    assert assumed == [(1, 0), (0, 1), (1, 0), (0, 0)]


@pytest.mark.usefixtures("aws")
def test_the_functions_account_is_asked_once_per_container_whatever_the_context_says(
        api_calls: ApiCalls) -> None:
    """`sam local` and other emulators give a made-up account in the Lambda context
    (012345678912): the account comes from the function's credentials, once."""
    from opskit.handler import Trigger, automation
    from opskit.runner import TargetRun
    from tests.conftest import FakeLambdaContext

    @automation("demo", config=lambda: CommonConfig.from_env("demo", {"AWS_REGION": "eu-west-1"}),
                triggers={Trigger.MESSAGES})
    def handler(run: Any) -> dict[str, Any]:
        return run.targets(lambda target, executor: TargetRun(title=target.account_id))

    emulated = FakeLambdaContext(
        invoked_function_arn="arn:aws:lambda:us-east-1:012345678912:function:opskit-test")
    first = handler({"any": "event"}, emulated)
    second = handler({"any": "event"}, emulated)
    assert [t["account"] for t in first["targets"] + second["targets"]] == [ACCOUNT, ACCOUNT]
    assert api_calls.of("sts", "GetCallerIdentity") == 1


@pytest.mark.usefixtures("aws")
def test_assumed_credentials_are_refreshed_before_they_expire(api_calls: ApiCalls,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    from datetime import UTC, datetime, timedelta

    factory = SessionFactory("eu-west-1", "OpskitExecutionRole", "opskit-test",
                             home_account=ACCOUNT)
    real = factory._assume
    lifetimes = iter([timedelta(minutes=5), timedelta(hours=1)])

    def assume(account_id: str) -> dict[str, str]:
        metadata = real(account_id)
        # Real clock only: the first credentials are within botocore's 10-minute mandatory
        # refresh window, so the next use assumes the role again.
        metadata["expiry_time"] = (datetime.now(UTC) + next(lifetimes)).isoformat()
        return metadata

    monkeypatch.setattr(factory, "_assume", assume)
    sts = factory.session_for(OTHER, "eu-west-1").client("sts")
    assert api_calls.of("sts", "AssumeRole") == 1
    assert sts.get_caller_identity()["Account"] == OTHER  # refreshed first: 5 minutes left
    assert api_calls.of("sts", "AssumeRole") == 2
    sts.get_caller_identity()
    factory.session_for(OTHER, "us-east-1").client("sts").get_caller_identity()
    assert api_calls.of("sts", "AssumeRole") == 2  # an hour left: kept, for every region


def test_a_session_makes_each_client_once_even_from_many_threads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from opskit.aws import new_session

    made = ClientsMade(monkeypatch)
    session = new_session("eu-west-1", access_key_id="k", secret_access_key="s")
    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(lambda _: session.client("s3"), range(32)))
    assert made.count == 1
    assert all(client is clients[0] for client in clients)
    assert session.client("s3", region_name="us-east-1") is not clients[0]
    # Another argument (a config, keys) makes a new client, as boto3 does.
    from botocore.config import Config

    assert session.client("s3", config=Config(read_timeout=1)) is not clients[0]
    assert made.count == 3


def test_every_session_of_the_container_reads_models_through_one_loader() -> None:
    from opskit.aws import forget, new_session

    first, second = new_session("eu-west-1"), new_session("us-east-1")
    loader = first._session.get_component("data_loader")
    assert second._session.get_component("data_loader") is loader
    forget()  # a new container: a new loader
    assert new_session("eu-west-1")._session.get_component("data_loader") is not loader


def test_the_container_keeps_one_factory_per_automation() -> None:
    shared = SessionFactory.shared("eu-west-1", "Role", "opskit-a")
    assert SessionFactory.shared("eu-west-1", "Role", "opskit-a") is shared
    assert SessionFactory.shared("eu-west-1", "Role", "opskit-b") is not shared
