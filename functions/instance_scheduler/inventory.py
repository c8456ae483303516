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
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import SpotInstanceRequestTypeDef
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_ecs.type_defs import ServiceTypeDef
    from mypy_boto3_ecs.type_defs import TagTypeDef as EcsTagTypeDef
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_redshift import RedshiftClient

EC2_INSTANCE = "ec2:instance"
ASG = "autoscaling:group"
RDS_INSTANCE = "rds:db"
RDS_CLUSTER = "rds:cluster"
REDSHIFT_CLUSTER = "redshift:cluster"
ECS_SERVICE = "ecs:service"
# DescribeServices takes at most 10 services; DescribeScalableTargets at most 50 resource ids.
ECS_DESCRIBE_MAX = 10
SCALABLE_TARGETS_MAX = 50
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
class Service:
    """What the scheduler knows of an ECS service besides its state."""

    cluster: str  # the cluster's ARN, which UpdateService names
    name: str  # the service's name in its cluster
    desired: int
    # The saved-capacity tag as found: the desired count to restore (written only when the
    # scheduler stops a running service).
    saved: str | None = None

    @property
    def saved_count(self) -> int | None:
        return parse_count(self.saved) if self.saved is not None else None


def parse_count(text: str) -> int | None:
    """A saved desired count: a whole number from 1 (a service saved at 0 was not running)."""
    return int(text) if text.isdigit() and 0 < int(text) <= 100_000 else None


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
    service: Service | None = None
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


_REDSHIFT_STATES = {"available": State.RUNNING, "paused": State.STOPPED}
# Redshift cluster states no run will see settle: a person must act (the others, such as
# pausing, resuming, modifying or rebooting, are transitions).
_REDSHIFT_STUCK = frozenset({"hardware-failure", "storage-full", "final-snapshot"})


def redshift_clusters(redshift: RedshiftClient, tag_key: str, arn_prefix: str
                      ) -> Iterator[Resource]:
    """Provisioned clusters carrying the schedule tag (the TagKeys filter is server-side), 100
    a page. DescribeClusters returns no cluster ARN: `arn_prefix` is
    `arn:<partition>:redshift:<region>:<account>:cluster:`, which the tag calls name."""
    pages = redshift.get_paginator("describe_clusters").paginate(
        TagKeys=[tag_key], PaginationConfig={"PageSize": 100})
    for page in pages:
        for cluster in page["Clusters"]:
            tags = tags_to_dict(cluster.get("Tags"))
            if tag_key not in tags:
                continue
            status = cluster.get("ClusterStatus", "")
            problem: tuple[Severity, str] | None = None
            if status in _REDSHIFT_STUCK or status.startswith("incompatible-"):
                problem = ("warning", f"the cluster is {status}: it can be neither paused nor "
                                      "resumed until someone repairs it")
            yield Resource(id=cluster["ClusterIdentifier"], kind=REDSHIFT_CLUSTER,
                           state=_REDSHIFT_STATES.get(status, State.TRANSITIONING), tags=tags,
                           arn=f"{arn_prefix}{cluster['ClusterIdentifier']}", raw_state=status,
                           needs_a_person=problem)


def ecs_services(ecs: ECSClient, scaling: ApplicationAutoScalingClient, *, tag_key: str,
                 saved_tag_key: str) -> list[Resource]:
    """Active services carrying the schedule tag. ECS has no server-side tag filter: every
    cluster's services are listed (100 a page) and described with their tags, 10 a call; the
    tagged ones' Application Auto Scaling targets are read, 50 a call."""
    services: list[ServiceTypeDef] = []
    for page in ecs.get_paginator("list_clusters").paginate():
        for cluster in page["clusterArns"]:
            arns = [arn for listed in ecs.get_paginator("list_services").paginate(
                        cluster=cluster, PaginationConfig={"PageSize": 100})
                    for arn in listed["serviceArns"]]
            for batch in chunks(arns, ECS_DESCRIBE_MAX):
                described = ecs.describe_services(cluster=cluster, services=list(batch),
                                                  include=["TAGS"])
                services.extend(
                    service for service in described["services"]
                    if service.get("status") == "ACTIVE"
                    and tag_key in _ecs_tags(service.get("tags")))
    minimums = _scaling_minimums(scaling, [_scaling_id(s) for s in services])
    found = []
    for service in services:
        tags = _ecs_tags(service.get("tags"))
        desired = service.get("desiredCount", 0)
        busy = service.get("runningCount", 0) + service.get("pendingCount", 0)
        info = Service(cluster=service["clusterArn"], name=service["serviceName"],
                       desired=desired,
                       saved=tags.get(saved_tag_key))
        rolling = [d for d in service.get("deployments", [])
                   if d.get("rolloutState") == "IN_PROGRESS"]
        if rolling or (desired == 0 and busy):
            state = State.TRANSITIONING
        elif desired == 0:
            state = State.STOPPED
        else:
            state = State.RUNNING if info.saved is None else State.PARTLY
        unsupported = None
        minimum = minimums.get(_scaling_id(service), 0)
        if service.get("schedulingStrategy") == "DAEMON":
            unsupported = ("daemon service: it runs one task on each container instance; "
                           "schedule the instances")
        elif minimum > 0:
            unsupported = (f"Application Auto Scaling keeps at least {minimum} task(s): a "
                           "desired count of 0 would be raised again; set the scalable "
                           "target's minimum to 0 to schedule it")
        found.append(Resource(
            # Service names are unique within a cluster only.
            id=_scaling_id(service).removeprefix("service/"), kind=ECS_SERVICE, state=state,
            tags=tags, arn=service["serviceArn"],
            raw_state=(f"desired {desired}, running {service.get('runningCount', 0)}, "
                       f"pending {service.get('pendingCount', 0)}"
                       + ("; deployment in progress" if rolling else "")),
            unsupported=unsupported, details={"cluster": service["clusterArn"]},
            service=info))
    return found


def _ecs_tags(tags: Iterable[EcsTagTypeDef] | None) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in tags or () if "key" in t}


def _scaling_id(service: ServiceTypeDef) -> str:
    cluster = str(service["clusterArn"]).rsplit("/", 1)[-1]
    return f"service/{cluster}/{service['serviceName']}"


def _scaling_minimums(scaling: ApplicationAutoScalingClient,
                      resource_ids: Sequence[str]) -> dict[str, int]:
    """Resource id -> the scalable target's minimum, for the services that have one."""
    minimums: dict[str, int] = {}
    for batch in chunks(list(resource_ids), SCALABLE_TARGETS_MAX):
        pages = scaling.get_paginator("describe_scalable_targets").paginate(
            ServiceNamespace="ecs", ResourceIds=list(batch),
            ScalableDimension="ecs:service:DesiredCount")
        for page in pages:
            for target in page["ScalableTargets"]:
                minimums[target["ResourceId"]] = target["MinCapacity"]
    return minimums
