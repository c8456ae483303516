"""Where each supported create call's resources are named in its CloudTrail record."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import UnknownRegionError

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


@functools.cache
def _partition(region: str) -> str | None:
    """The region's partition (aws, aws-cn, aws-us-gov...), None for a region botocore does not
    know: an ARN is then not built on a guess."""
    try:
        return boto3.session.Session().get_partition_for_region(region)
    except UnknownRegionError:
        return None


def _named(service: str, response_path: tuple[str, ...], request_key: str, name: str,
           to_id: Callable[[ApiCall, str], str | None]) -> Callable[[ApiCall], list[ResourceRef]]:
    """The id from the response; when the response does not name it (null responseElements, an
    older record shape), from the request name, which identifies exactly one resource in the
    record's account (IAM) or account and region (the others). `name` is the pattern of a plain
    name: an ARN or anything else in the request is not guessed from."""
    from_response = _one(service, *response_path)
    plain = re.compile(name)

    def extract(call: ApiCall) -> list[ResourceRef]:
        refs = from_response(call)
        if refs:
            return refs
        value = call.request.get(request_key)
        if not isinstance(value, str) or not plain.fullmatch(value):
            return []
        resource = to_id(call, value)
        if resource is not None:
            logger.info("resource named by the request", extra={
                **call.ids, "resource": resource, "from": f"requestParameters.{request_key}"})
        return [ResourceRef(service, resource)] if resource is not None else []
    return extract


def _arn(service: str, kind: str, lower: bool = False) -> Callable[[ApiCall, str], str | None]:
    def build(call: ApiCall, name: str) -> str | None:
        partition = _partition(call.region)
        if partition is None:
            return None
        # RDS stores its identifiers in lowercase ("MyDB" is "mydb" in every ARN).
        return f"arn:{partition}:{service}:{call.region}:{call.account}:{kind}" \
               f"{name.lower() if lower else name}"
    return build


def _iam_name(call: ApiCall, name: str) -> str | None:
    return name  # the IAM tagging calls take the name itself


_RDS_ID = r"[A-Za-z][A-Za-z0-9-]{0,254}"
_IAM_NAME = r"[\w+=,.@-]{1,64}"


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
    # From here on, a record whose response does not name the resource falls back to the name in
    # the request where that name alone is the resource: IAM names are unique in the account, RDS
    # identifiers, Lambda function, DynamoDB table and SNS topic names in the account and region.
    "CreateDBInstance": _named(RDS, ("dBInstanceArn",), "dBInstanceIdentifier", _RDS_ID,
                               _arn("rds", "db:", lower=True)),
    "CreateDBCluster": _named(RDS, ("dBClusterArn",), "dBClusterIdentifier", _RDS_ID,
                              _arn("rds", "cluster:", lower=True)),
    "CreateDBSnapshot": _named(RDS, ("dBSnapshotArn",), "dBSnapshotIdentifier", _RDS_ID,
                               _arn("rds", "snapshot:", lower=True)),
    "CreateFunction20150331": _named(LAMBDA, ("functionArn",), "functionName",
                                     r"[A-Za-z0-9_-]{1,64}", _arn("lambda", "function:")),
    "CreateFunction": _named(LAMBDA, ("functionArn",), "functionName", r"[A-Za-z0-9_-]{1,64}",
                             _arn("lambda", "function:")),
    "CreateTable": _named(DYNAMODB, ("tableDescription", "tableArn"), "tableName",
                          r"[A-Za-z0-9_.-]{3,255}", _arn("dynamodb", "table/")),
    "CreateTopic": _named(SNS, ("topicArn",), "name", r"[A-Za-z0-9_-]{1,256}(\.fifo)?",
                          _arn("sns", "")),
    # A queue is addressed by its URL, whose host the record does not give: no fallback.
    "CreateQueue": _one(SQS, "queueUrl"),
    # The ARN ends with an id AWS generates (app/<name>/<id>): the name does not make it.
    "CreateLoadBalancer": _load_balancers,
    "CreateRole": _named(IAM_ROLE, ("role", "roleName"), "roleName", _IAM_NAME, _iam_name),
    "CreateUser": _named(IAM_USER, ("user", "userName"), "userName", _IAM_NAME, _iam_name),
}


def resources_of(call: ApiCall) -> list[ResourceRef]:
    """The record's new resources; an id no AWS resource could have is dropped (and logged)."""
    extractor = EXTRACTORS.get(call.event_name)
    refs = extractor(call) if extractor is not None else []
    valid = [ref for ref in refs if is_identifier(ref.id)]
    if len(valid) < len(refs):
        logger.warning("identifiers refused", extra={"event_id": call.event_id,
                                                     "refused": len(refs) - len(valid)})
    return valid
