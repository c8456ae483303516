"""Instance-store lookups: batched, cached, unknown types treated as unsafe."""

from __future__ import annotations

import boto3
import pytest

from opskit import instance_store
from opskit.instance_store import OPT_IN_TAG, has_instance_store, refusal
from tests.conftest import ApiCalls


@pytest.fixture(autouse=True)
def _empty_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instance_store, "_KNOWN", {})


@pytest.mark.usefixtures("aws")
def test_types_are_looked_up_once_in_batches(api_calls: ApiCalls) -> None:
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    api_calls.reset()
    found = has_instance_store(ec2, ["m5d.large", "t3.micro", "i4i.large", "t3.micro"])
    assert found == {"i4i.large": True, "m5d.large": True, "t3.micro": False}
    assert has_instance_store(ec2, ["m5d.large"]) == {"m5d.large": True}  # cached
    assert api_calls.counts == {("ec2", "DescribeInstanceTypes"): 1}


@pytest.mark.usefixtures("aws")
def test_an_unknown_type_is_unsafe_and_does_not_hide_the_others() -> None:
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    found = has_instance_store(ec2, ["c6gd.medium", "zz9.plural", "t3.small"])
    assert found == {"c6gd.medium": True, "t3.small": False, "zz9.plural": None}


@pytest.mark.parametrize(("kind", "tags", "refused"), [
    ("m5d.large", {}, True), ("m5d.large", {OPT_IN_TAG: "true"}, False),
    ("m5d.large", {OPT_IN_TAG: "no"}, True), ("t3.micro", {}, False),
    ("zz9.plural", {}, True)])
def test_refusal_says_why(kind: str, tags: dict[str, str], refused: bool) -> None:
    known = {"m5d.large": True, "t3.micro": False, "zz9.plural": None}
    why = refusal(kind, known, tags)
    assert (why is not None) is refused
    if why:
        assert kind in why
        assert OPT_IN_TAG in why
