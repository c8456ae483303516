"""Reads the scheduled resources of one target: the only module here that describes AWS."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from opskit.actions import chunks, error_code
from opskit.notify import Severity
from opskit.tags import tags_to_dict

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import SpotInstanceRequestTypeDef
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
# RDS states that need a person (besides the lost KMS key and the incompatible-* ones).
_RDS_STUCK = frozenset({"failed", "restore-error", "storage-full"})


class State(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    TRANSITIONING = "transitioning"
    # An Auto Scaling group neither fully running nor fully stopped: resized by hand while
    # stopped by the scheduler, or half stopped in the suspend mode.
    PARTLY = "partly stopped"


# The processes suspended to stop a group gently (AsgStopMode.SUSPEND): nothing launches,
# terminates or replaces its stopped instances, nothing rebalances them.
SUSPENDED_PROCESSES = ("AZRebalance", "HealthCheck", "Launch", "ReplaceUnhealthy", "Terminate")


@dataclass(frozen=True, slots=True)
class Member:
    """An instance of an Auto Scaling group, read when its instances are stopped or started."""

    id: str
    state: str
    instance_type: str
    spot: bool
    tags: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Group:
    """What the scheduler knows of an Auto Scaling group besides its state."""

    capacity: tuple[int, int, int]
    # The saved-capacity tag as found (written only when the scheduler stops a running group).
    saved: str | None = None
    # The suspended-processes tag as found: the processes the scheduler suspended.
    suspended_by_us: str | None = None
    suspended: frozenset[str] = frozenset()
    members: tuple[Member, ...] = ()

    @property
    def saved_capacity(self) -> tuple[int, int, int] | None:
        return None if self.saved is None else parse_capacity(self.saved)

    def members_in(self, *states: str) -> list[Member]:
        return [m for m in self.members if m.state in states]


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
    instance_type: str = ""
    group: Group | None = None
    # A state only a person can repair (an RDS database whose KMS key is lost): how bad, and
    # what to do. Reported at every run, whatever the schedule says.
    needs_a_person: tuple[Severity, str] | None = None


_EC2_STATES = {"running": State.RUNNING, "stopped": State.STOPPED}
_RDS_STATES = {"available": State.RUNNING, "stopped": State.STOPPED}
_FLEET_TAGS = ("aws:ec2spot:fleet-request-id", "aws:ec2:fleet-id")


def ec2_instances(ec2: EC2Client, tag_key: str) -> list[Resource]:
    """Instances carrying the schedule tag (server-side filter), all pages; the spot requests
    of the spot ones, in one more call per 200 of them."""
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "tag-key", "Values": [tag_key]},
                 {"Name": "instance-state-name",
                  "Values": ["pending", "running", "stopping", "stopped"]}],
        PaginationConfig={"PageSize": 1000},
    )
    instances = [i for page in pages for r in page["Reservations"] for i in r["Instances"]]
    spot_ids = [i["InstanceId"] for i in instances if i.get("InstanceLifecycle") == "spot"]
    requests = spot_requests(ec2, spot_ids) if spot_ids else {}
    found = []
    for instance in instances:
        tags = tags_to_dict(instance.get("Tags"))
        state = instance["State"]["Name"]
        hibernation = instance.get("HibernationOptions", {})
        unsupported = None
        if instance.get("InstanceLifecycle") == "spot":
            unsupported = _spot_refusal(tags, requests.get(instance["InstanceId"]))
        elif instance.get("RootDeviceType") == "instance-store":
            unsupported = "instance-store root volume: stopping would lose the instance"
        if unsupported is None and "aws:autoscaling:groupName" in tags:
            unsupported = (f"member of Auto Scaling group "
                           f"{tags['aws:autoscaling:groupName']}: schedule the group")
        found.append(Resource(
            id=instance["InstanceId"], kind=EC2_INSTANCE,
            state=_EC2_STATES.get(state, State.TRANSITIONING), tags=tags,
            raw_state=state, unsupported=unsupported,
            hibernate_capable=hibernation.get("Configured", False),
            instance_type=instance.get("InstanceType", ""),
        ))
    return found


def spot_requests(ec2: EC2Client,
                  instance_ids: Sequence[str]) -> dict[str, SpotInstanceRequestTypeDef]:
    """Instance id -> the spot request that launched it (filtered by instance, 200 a call)."""
    found: dict[str, SpotInstanceRequestTypeDef] = {}
    for batch in chunks(instance_ids, FILTER_VALUES_MAX):
        pages = ec2.get_paginator("describe_spot_instance_requests").paginate(
            Filters=[{"Name": "instance-id", "Values": list(batch)}])
        for page in pages:
            for request in page["SpotInstanceRequests"]:
                if request.get("InstanceId"):
                    found[request["InstanceId"]] = request
    return found


def _spot_refusal(tags: Mapping[str, str],
                  request: SpotInstanceRequestTypeDef | None) -> str | None:
    """Why EC2 cannot stop this spot instance, or None: EC2 stops only the instances of a
    persistent spot request that is not cancelled, in no fleet, launch or AZ group."""
    if any(key in tags for key in _FLEET_TAGS):
        return "spot instance of a fleet: EC2 cannot stop it (schedule the fleet's capacity)"
    if request is None:
        return ("spot instance whose spot request was not found (one-time or gone): EC2 stops "
                "only the instances of a persistent spot request")
    if request.get("Type") != "persistent":
        return ("one-time spot instance: EC2 stops only the instances of a persistent spot "
                "request")
    if request.get("State") not in ("active", "disabled"):
        return (f"its persistent spot request is {request.get('State')}: EC2 cannot stop the "
                "instance")
    if request.get("LaunchGroup") or request.get("AvailabilityZoneGroup"):
        return ("spot instance in a launch group or Availability Zone group: EC2 cannot stop "
                "it")
    return None


def auto_scaling_groups(autoscaling: AutoScalingClient, ec2: EC2Client, *, tag_key: str,
                        saved_tag_key: str, suspended_tag_key: str,
                        with_members: bool) -> list[Resource]:
    """Groups carrying the schedule tag (server-side filter), 100 a page. Their instances'
    states are read (DescribeInstances, 200 a call) when they are stopped rather than scaled to
    zero (`with_members`), or for a group the scheduler stopped that way."""
    pages = autoscaling.get_paginator("describe_auto_scaling_groups").paginate(
        Filters=[{"Name": "tag-key", "Values": [tag_key]}],
        PaginationConfig={"PageSize": 100},
    )
    groups = [group for page in pages for group in page["AutoScalingGroups"]]
    wanted = [i["InstanceId"] for group in groups
              if with_members or suspended_tag_key in tags_to_dict(group.get("Tags"))
              for i in group.get("Instances", [])]
    members = group_members(ec2, wanted) if wanted else {}
    found = []
    for group in groups:
        tags = tags_to_dict(group.get("Tags"))
        capacity = (group["MinSize"], group["MaxSize"], group["DesiredCapacity"])
        info = Group(
            capacity=capacity, saved=tags.get(saved_tag_key),
            suspended_by_us=tags.get(suspended_tag_key),
            suspended=frozenset(p["ProcessName"] for p in group.get("SuspendedProcesses", [])),
            members=tuple(members[i["InstanceId"]] for i in group.get("Instances", [])
                          if i["InstanceId"] in members))
        raw = f"min {capacity[0]}, max {capacity[1]}, desired {capacity[2]}"
        if info.members:
            raw += (f"; {len(info.members_in('stopped', 'stopping'))} of {len(info.members)} "
                    "instances stopped")
        if set(SUSPENDED_PROCESSES) & info.suspended:
            raw += f"; suspended {'+'.join(sorted(set(SUSPENDED_PROCESSES) & info.suspended))}"
        found.append(Resource(
            id=group["AutoScalingGroupName"], kind=ASG, state=_group_state(info), tags=tags,
            arn=group.get("AutoScalingGroupARN", ""), raw_state=raw,
            details={"capacity": format_capacity(capacity)}, group=info,
        ))
    return found


def _group_state(group: Group) -> State:
    if group.members_in("pending", "stopping"):
        return State.TRANSITIONING  # the next run acts on the state they settle in
    up = bool(group.members_in("running"))
    down = bool(group.members_in("stopped"))
    if group.capacity == (0, 0, 0) or (set(SUSPENDED_PROCESSES) <= group.suspended and not up):
        return State.STOPPED
    if group.saved is None and group.suspended_by_us is None and not down:
        return State.RUNNING
    return State.PARTLY


def group_members(ec2: EC2Client, instance_ids: Sequence[str]) -> dict[str, Member]:
    found: dict[str, Member] = {}
    for batch in chunks(instance_ids, FILTER_VALUES_MAX):
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-id", "Values": list(batch)}])
        for page in pages:
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    found[instance["InstanceId"]] = Member(
                        id=instance["InstanceId"], state=instance["State"]["Name"],
                        instance_type=instance.get("InstanceType", ""),
                        spot=instance.get("InstanceLifecycle") == "spot",
                        tags=tags_to_dict(instance.get("Tags")))
    return found


def format_capacity(capacity: tuple[int, int, int]) -> str:
    return "/".join(str(number) for number in capacity)


def parse_capacity(text: str) -> tuple[int, int, int] | None:
    """`min/max/desired` as saved by the scheduler, or None when it is not that."""
    parts = text.split("/")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    low, high, desired = (int(part) for part in parts)
    return (low, high, desired) if low <= desired <= high else None


def needs_a_person(status: str) -> tuple[Severity, str] | None:
    """RDS states the scheduler can neither start nor stop from, and that no run will see
    settle: reported (with the state) instead of waited on as a transition."""
    if status == "inaccessible-encryption-credentials-recoverable":
        return ("critical", "RDS cannot use the database's KMS key: it can be neither started "
                            "nor stopped; enable the key and restore its policy and grants, "
                            "then start the database")
    if status.startswith("inaccessible-encryption-credentials"):
        return ("critical", "RDS cannot use or recover the database's KMS key: it can be "
                            "neither started nor stopped; restore it from a backup")
    if status in _RDS_STUCK or status.startswith("incompatible-"):
        return ("warning", f"the database is {status}: it can be neither started nor stopped "
                           "until someone repairs it")
    return None


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
                           arn=db["DBInstanceArn"], raw_state=status, unsupported=unsupported,
                           needs_a_person=needs_a_person(status))


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
                           arn=cluster["DBClusterArn"], raw_state=status, unsupported=unsupported,
                           needs_a_person=needs_a_person(status))


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
