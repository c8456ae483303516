"""Reads the scheduled resources of one target: the only module here that describes AWS."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from opskit.actions import chunks, error_code
from opskit.tags import tags_to_dict

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_rds import RDSClient

EC2_INSTANCE = "ec2:instance"
ASG = "autoscaling:group"
RDS_INSTANCE = "rds:db"
RDS_CLUSTER = "rds:cluster"
# EC2 filters take at most 200 values each.
FILTER_VALUES_MAX = 200
_KEY_UNUSABLE = frozenset({"Disabled", "PendingDeletion", "PendingImport", "Unavailable"})
_RDS_AUTO_START = "exceeding the maximum allowed time being stopped"


class State(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    TRANSITIONING = "transitioning"


@dataclass(frozen=True, slots=True)
class Resource:
    id: str
    kind: str
    state: State
    tags: Mapping[str, str]
    arn: str = ""
    raw_state: str = ""
    # Why the scheduler must not start/stop it (spot, replica...), or None.
    unsupported: str | None = None
    hibernate_capable: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)


_EC2_STATES = {"running": State.RUNNING, "stopped": State.STOPPED}
_RDS_STATES = {"available": State.RUNNING, "stopped": State.STOPPED}


def ec2_instances(ec2: EC2Client, tag_key: str) -> Iterator[Resource]:
    """Instances carrying the schedule tag (server-side filter), all pages."""
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "tag-key", "Values": [tag_key]},
                 {"Name": "instance-state-name",
                  "Values": ["pending", "running", "stopping", "stopped"]}],
        PaginationConfig={"PageSize": 1000},
    )
    for page in pages:
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                tags = tags_to_dict(instance.get("Tags"))
                state = instance["State"]["Name"]
                hibernation = instance.get("HibernationOptions", {})
                unsupported = None
                if instance.get("InstanceLifecycle") == "spot":
                    unsupported = "spot instances cannot be stopped and started by schedule"
                elif instance.get("RootDeviceType") == "instance-store":
                    unsupported = "instance-store root volume: stopping would lose the instance"
                elif "aws:autoscaling:groupName" in tags:
                    unsupported = (f"member of Auto Scaling group "
                                   f"{tags['aws:autoscaling:groupName']}: schedule the group")
                yield Resource(
                    id=instance["InstanceId"], kind=EC2_INSTANCE,
                    state=_EC2_STATES.get(state, State.TRANSITIONING), tags=tags,
                    raw_state=state, unsupported=unsupported,
                    hibernate_capable=hibernation.get("Configured", False),
                )


def auto_scaling_groups(autoscaling: AutoScalingClient, tag_key: str,
                        saved_tag_key: str) -> Iterator[Resource]:
    pages = autoscaling.get_paginator("describe_auto_scaling_groups").paginate(
        Filters=[{"Name": "tag-key", "Values": [tag_key]}],
        PaginationConfig={"PageSize": 100},
    )
    for page in pages:
        for group in page["AutoScalingGroups"]:
            tags = tags_to_dict(group.get("Tags"))
            capacity = (group["MinSize"], group["MaxSize"], group["DesiredCapacity"])
            stopped = capacity == (0, 0, 0) and saved_tag_key in tags
            unsupported = None
            if stopped and parse_capacity(tags[saved_tag_key]) is None:
                unsupported = (f"saved capacity {saved_tag_key}={tags[saved_tag_key]!r} is not "
                               "min/max/desired: restore the group's capacity by hand")
            yield Resource(
                id=group["AutoScalingGroupName"], kind=ASG,
                state=State.STOPPED if stopped else State.RUNNING, tags=tags,
                arn=group.get("AutoScalingGroupARN", ""),
                raw_state=f"min {capacity[0]}, max {capacity[1]}, desired {capacity[2]}",
                unsupported=unsupported,
                details={"capacity": format_capacity(capacity)},
            )


def format_capacity(capacity: tuple[int, int, int]) -> str:
    return "/".join(str(number) for number in capacity)


def parse_capacity(text: str) -> tuple[int, int, int] | None:
    """`min/max/desired` as saved by the scheduler, or None when it is not that."""
    parts = text.split("/")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    low, high, desired = (int(part) for part in parts)
    return (low, high, desired) if low <= desired <= high else None


def rds_instances(rds: RDSClient, tag_key: str) -> Iterator[Resource]:
    """RDS has no server-side tag filter: every instance is listed, tags come with it."""
    for page in rds.get_paginator("describe_db_instances").paginate(
            PaginationConfig={"PageSize": 100}):
        for db in page["DBInstances"]:
            tags = tags_to_dict(db.get("TagList"))
            if tag_key not in tags:
                continue
            unsupported = None
            if db.get("DBClusterIdentifier"):
                unsupported = (f"member of cluster {db['DBClusterIdentifier']}: "
                               "schedule the cluster")
            elif db.get("ReadReplicaSourceDBInstanceIdentifier"):
                unsupported = "read replicas cannot be stopped"
            elif db.get("ReadReplicaDBInstanceIdentifiers"):
                unsupported = "instances with read replicas cannot be stopped"
            status = db["DBInstanceStatus"]
            yield Resource(id=db["DBInstanceIdentifier"], kind=RDS_INSTANCE,
                           state=_RDS_STATES.get(status, State.TRANSITIONING), tags=tags,
                           arn=db["DBInstanceArn"], raw_state=status, unsupported=unsupported)


def rds_clusters(rds: RDSClient, tag_key: str) -> Iterator[Resource]:
    for page in rds.get_paginator("describe_db_clusters").paginate(
            PaginationConfig={"PageSize": 100}):
        for cluster in page["DBClusters"]:
            tags = tags_to_dict(cluster.get("TagList"))
            if tag_key not in tags:
                continue
            unsupported = None
            if cluster.get("EngineMode") == "serverless":
                unsupported = "Aurora Serverless v1 clusters cannot be stopped"
            elif cluster.get("ReplicationSourceIdentifier"):
                unsupported = "replica clusters cannot be stopped"
            status = cluster["Status"]
            yield Resource(id=cluster["DBClusterIdentifier"], kind=RDS_CLUSTER,
                           state=_RDS_STATES.get(status, State.TRANSITIONING), tags=tags,
                           arn=cluster["DBClusterArn"], raw_state=status, unsupported=unsupported)


def unusable_kms_keys(ec2: EC2Client, kms: KMSClient,
                      instance_ids: Iterable[str]) -> dict[str, str]:
    """Instance id -> problem, for instances whose encrypted volumes' KMS key cannot be used.

    One DescribeVolumes per 200 instances and one DescribeKey per distinct key.
    """
    volume_keys: dict[str, set[str]] = {}
    for batch in chunks(list(instance_ids), FILTER_VALUES_MAX):
        pages = ec2.get_paginator("describe_volumes").paginate(
            Filters=[{"Name": "attachment.instance-id", "Values": list(batch)},
                     {"Name": "encrypted", "Values": ["true"]}])
        for page in pages:
            for volume in page["Volumes"]:
                if not volume.get("KmsKeyId"):
                    continue
                for attachment in volume.get("Attachments", []):
                    volume_keys.setdefault(attachment["InstanceId"], set()).add(volume["KmsKeyId"])
    key_states: dict[str, str] = {}
    problems: dict[str, str] = {}
    for instance_id, keys in sorted(volume_keys.items()):
        for key in sorted(keys):
            if key not in key_states:
                key_states[key] = _key_state(kms, key)
            if key_states[key] in _KEY_UNUSABLE or key_states[key] == "NotFound":
                problems[instance_id] = (f"encrypted volume's KMS key {key} is "
                                         f"{key_states[key]}: the instance would fail to start")
    return problems


def _key_state(kms: KMSClient, key: str) -> str:
    try:
        return kms.describe_key(KeyId=key)["KeyMetadata"].get("KeyState", "Enabled")
    except kms.exceptions.NotFoundException:
        return "NotFound"
    except ClientError as exc:
        # A key policy that does not delegate to IAM: we cannot judge the key, so let EC2 try.
        if error_code(exc) in ("AccessDeniedException", "AccessDenied"):
            return "Unknown"
        raise


def rds_auto_started(rds: RDSClient, source_type: Literal["db-instance", "db-cluster"],
                     hours: int = 24) -> set[str]:
    """Identifiers AWS started because they stayed stopped 7 days (RDS-EVENT-0154 and -0153)."""
    started: set[str] = set()
    pages = rds.get_paginator("describe_events").paginate(
        SourceType=source_type,
        Duration=hours * 60,
    )
    for page in pages:
        for event in page["Events"]:
            if _RDS_AUTO_START in event.get("Message", "") and event.get("SourceIdentifier"):
                started.add(event["SourceIdentifier"])
    return started
