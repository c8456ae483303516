"""Instance types whose instances carry instance-store volumes: a stop erases their data.

EC2 erases instance-store volumes when an instance stops or hibernates, whatever its root device
("Data persistence for instance store volumes", EC2 user guide). The scheduler and self-healing
look the types up (DescribeInstanceTypes, 100 per call, cached for the container's life: a type's
storage never changes) and refuse to stop such an instance unless its own tag opts in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from opskit.tags import TRUE_VALUES

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
else:
    EC2Client = Any

# The tag, on the instance itself, by which its owner accepts losing instance-store data on a
# stop; any value that means yes (opskit.tags.TRUE_VALUES).
OPT_IN_TAG = "opskit:stop-erases-instance-store"
BATCH = 100  # DescribeInstanceTypes takes at most 100 types per call
_KNOWN: dict[tuple[str, str], bool] = {}  # (region, type) -> has instance-store volumes


def has_instance_store(ec2: EC2Client, types: Iterable[str]) -> dict[str, bool | None]:
    """For each type, whether its instances have instance-store volumes; None when EC2 does
    not know the type (treat as unsafe). Unknown types are looked up in batches of 100."""
    region = ec2.meta.region_name
    wanted = sorted(set(types))
    missing = [t for t in wanted if (region, t) not in _KNOWN]
    for start in range(0, len(missing), BATCH):
        _look_up(ec2, region, missing[start:start + BATCH])
    return {t: _KNOWN.get((region, t)) for t in wanted}


def _look_up(ec2: EC2Client, region: str, types: list[str]) -> None:
    try:
        pages = ec2.get_paginator("describe_instance_types").paginate(
            InstanceTypes=types)  # type: ignore[arg-type]
        for page in pages:
            for info in page["InstanceTypes"]:
                _KNOWN[(region, info["InstanceType"])] = bool(
                    info.get("InstanceStorageSupported"))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "InvalidInstanceType":
            raise
        if len(types) > 1:  # one unknown type refuses the batch: split it to find it
            half = len(types) // 2
            _look_up(ec2, region, types[:half])
            _look_up(ec2, region, types[half:])


def opted_in(tags: Mapping[str, str]) -> bool:
    """Whether the instance's own tags accept losing its instance-store data on a stop."""
    return tags.get(OPT_IN_TAG, "").strip().lower() in TRUE_VALUES


def refusal(instance_type: str, known: Mapping[str, bool | None],
            tags: Mapping[str, str]) -> str | None:
    """Why the instance must not be stopped, or None."""
    if opted_in(tags):
        return None
    storage = known.get(instance_type)
    if storage is None:
        return (f"instance type {instance_type} could not be looked up: it may have "
                f"instance-store volumes, which a stop erases (tag {OPT_IN_TAG}=true to allow)")
    if storage:
        return (f"instance type {instance_type} has instance-store volumes, which a stop erases "
                f"(tag {OPT_IN_TAG}=true to allow)")
    return None
