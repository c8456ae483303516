"""The AWS clients of one target, each created once and only when first needed."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from opskit.aws import Target

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_redshift import RedshiftClient


class TargetClients:
    def __init__(self, target: Target) -> None:
        self._session = target.session
        # DescribeClusters returns no cluster ARN; the tag calls need one.
        self.redshift_arn_prefix = (f"arn:{target.partition}:redshift:{target.region}:"
                                    f"{target.account_id}:cluster:")

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

    @cached_property
    def redshift(self) -> RedshiftClient:
        return self._session.client("redshift")

    @cached_property
    def ecs(self) -> ECSClient:
        return self._session.client("ecs")

    @cached_property
    def scaling(self) -> ApplicationAutoScalingClient:
        return self._session.client("application-autoscaling")
