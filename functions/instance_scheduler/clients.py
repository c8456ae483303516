"""The AWS clients of one target, each created once and only when first needed."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from opskit.aws import Target

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_rds import RDSClient


class TargetClients:
    def __init__(self, target: Target) -> None:
        self._session = target.session

    @cached_property
    def ec2(self) -> EC2Client:
        return self._session.client("ec2")

    @cached_property
    def autoscaling(self) -> AutoScalingClient:
        return self._session.client("autoscaling")

    @cached_property
    def rds(self) -> RDSClient:
        return self._session.client("rds")

    @cached_property
    def kms(self) -> KMSClient:
        return self._session.client("kms")
