"""Where each supported create call's resources are named in its CloudTrail record."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opskit.cloudtrail import ApiCall
from opskit.events import is_identifier
from opskit.observability import logger

EC2, S3, RDS, LAMBDA, DYNAMODB, SNS, SQS, ELBV2, IAM_ROLE, IAM_USER = (
    "ec2", "s3", "rds", "lambda", "dynamodb", "sns", "sqs", "elbv2", "iam-role", "iam-user")


@dataclass(frozen=True, slots=True)
class ResourceRef:
    service: str  # one of the constants above: picks the tagging API
    id: str  # EC2 id, bucket name, ARN, queue URL, IAM name


def _get(data: Mapping[str, Any] | None, *path: str) -> Any:
    value: Any = data
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _items(data: Mapping[str, Any] | None, *path: str) -> list[Mapping[str, Any]]:
    items = _get(data, *path)
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _one(service: str, *path: str, source: str = "response") -> Callable[[ApiCall], list[
        ResourceRef]]:
    def extract(call: ApiCall) -> list[ResourceRef]:
        value = _get(call.response if source == "response" else call.request, *path)
        return [ResourceRef(service, value)] if isinstance(value, str) and value else []
    return extract


def _run_instances(call: ApiCall) -> list[ResourceRef]:
    refs = []
    for item in _items(call.response, "instancesSet", "items"):
        if isinstance(item.get("instanceId"), str):
            refs.append(ResourceRef(EC2, item["instanceId"]))
        for eni in _items(item, "networkInterfaceSet", "items"):
            if isinstance(eni.get("networkInterfaceId"), str):
                refs.append(ResourceRef(EC2, eni["networkInterfaceId"]))
        for mapping in _items(item, "blockDeviceMapping", "items"):
            volume = _get(mapping, "ebs", "volumeId")
            if isinstance(volume, str):
                refs.append(ResourceRef(EC2, volume))
    return refs


def _load_balancers(call: ApiCall) -> list[ResourceRef]:
    return [ResourceRef(ELBV2, lb["loadBalancerArn"]) for lb in
            _items(call.response, "loadBalancers") if isinstance(lb.get("loadBalancerArn"), str)]


# eventName -> extractor. The volumes and ENIs a RunInstances creates are tagged with it when the
# record names them; otherwise a later CreateVolume/attachment is not ours to guess.
EXTRACTORS: dict[str, Callable[[ApiCall], list[ResourceRef]]] = {
    "RunInstances": _run_instances,
    "CreateVolume": _one(EC2, "volumeId"),
    "CreateSnapshot": _one(EC2, "snapshotId"),
    "CreateImage": _one(EC2, "imageId"),
    "CreateSecurityGroup": _one(EC2, "groupId"),
    "AllocateAddress": _one(EC2, "allocationId"),
    "CreateNatGateway": _one(EC2, "CreateNatGatewayResponse", "natGateway", "natGatewayId"),
    "CreateVpc": _one(EC2, "vpc", "vpcId"),
    "CreateSubnet": _one(EC2, "subnet", "subnetId"),
    "CreateInternetGateway": _one(EC2, "internetGateway", "internetGatewayId"),
    "CreateLaunchTemplate": _one(EC2, "CreateLaunchTemplateResponse", "launchTemplate",
                                 "launchTemplateId"),
    # S3 records carry no responseElements for CreateBucket: the name is in the request.
    "CreateBucket": _one(S3, "bucketName", source="request"),
    "CreateDBInstance": _one(RDS, "dBInstanceArn"),
    "CreateDBCluster": _one(RDS, "dBClusterArn"),
    "CreateDBSnapshot": _one(RDS, "dBSnapshotArn"),
    "CreateFunction20150331": _one(LAMBDA, "functionArn"),
    "CreateFunction": _one(LAMBDA, "functionArn"),
    "CreateTable": _one(DYNAMODB, "tableDescription", "tableArn"),
    "CreateTopic": _one(SNS, "topicArn"),
    "CreateQueue": _one(SQS, "queueUrl"),
    "CreateLoadBalancer": _load_balancers,
    "CreateRole": _one(IAM_ROLE, "role", "roleName"),
    "CreateUser": _one(IAM_USER, "user", "userName"),
}
# Calls whose response is legitimately null (the resource is named in the request).
REQUEST_NAMED = frozenset({"CreateBucket"})


def resources_of(call: ApiCall) -> list[ResourceRef]:
    """The record's new resources; an id no AWS resource could have is dropped (and logged)."""
    extractor = EXTRACTORS.get(call.event_name)
    refs = extractor(call) if extractor is not None else []
    valid = [ref for ref in refs if is_identifier(ref.id)]
    if len(valid) < len(refs):
        logger.warning("identifiers refused", extra={"event_id": call.event_id,
                                                     "refused": len(refs) - len(valid)})
    return valid
