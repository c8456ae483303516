from __future__ import annotations

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
