"""One region's EC2 and Auto Scaling state that several decisions share, each part read once
per invocation and only when a decision needs it; and what in it uses images and snapshots."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opskit.aws import Target

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import FilterTypeDef

PAGE = 1000


@dataclass(frozen=True, slots=True)
class Users:
    """What uses each image and snapshot: id -> the first user found, in words."""

    images: Mapping[str, str] = field(default_factory=dict)
    snapshots: Mapping[str, str] = field(default_factory=dict)

    def __or__(self, other: Users) -> Users:
        return Users({**other.images, **self.images}, {**other.snapshots, **self.snapshots})


def _mappings_users(mappings: Iterable[Mapping[str, Any]] | None, user: str) -> dict[str, str]:
    return {str(m["Ebs"]["SnapshotId"]): user for m in mappings or ()
            if m.get("Ebs", {}).get("SnapshotId")}


def template_users(versions: Iterable[Mapping[str, Any]]) -> Users:
    """Every version counts, not only $Latest and $Default: an Auto Scaling group or a
    pipeline may launch a pinned one."""
    images: dict[str, str] = {}
    snapshots: dict[str, str] = {}
    for version in versions:
        data = version.get("LaunchTemplateData", {})
        user = (f"launch template {version.get('LaunchTemplateName')} "
                f"({version.get('LaunchTemplateId')}) version {version.get('VersionNumber')}")
        if data.get("ImageId"):
            images.setdefault(str(data["ImageId"]), user)
        for snapshot, why in _mappings_users(data.get("BlockDeviceMappings"), user).items():
            snapshots.setdefault(snapshot, why)
    return Users(images, snapshots)


def image_users(images: Iterable[Mapping[str, Any]]) -> Users:
    """The snapshots behind each AMI, disabled ones included (they can be enabled again)."""
    snapshots: dict[str, str] = {}
    for image in images:
        user = f"AMI {image['ImageId']}" + (" (disabled)" if image.get("State") == "disabled"
                                            else "")
        for snapshot, why in _mappings_users(image.get("BlockDeviceMappings"), user).items():
            snapshots.setdefault(snapshot, why)
    return Users({}, snapshots)


def configuration_users(configurations: Iterable[Mapping[str, Any]]) -> Users:
    images: dict[str, str] = {}
    snapshots: dict[str, str] = {}
    for configuration in configurations:
        user = f"launch configuration {configuration.get('LaunchConfigurationName')}"
        if configuration.get("ImageId"):
            images.setdefault(str(configuration["ImageId"]), user)
        for snapshot, why in _mappings_users(configuration.get("BlockDeviceMappings"),
                                             user).items():
            snapshots.setdefault(snapshot, why)
    return Users(images, snapshots)


def instance_users(instances: Iterable[Mapping[str, Any]]) -> Users:
    return Users({str(i["ImageId"]): f"instance {i.get('InstanceId')}"
                  for i in instances if i.get("ImageId")}, {})


def group_target_groups(groups: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Target group ARN -> the Auto Scaling group it is attached to, whatever its size (a
    group scaled to 0/0/0 overnight still owns its balancer)."""
    attached: dict[str, str] = {}
    for group in groups:
        name = str(group.get("AutoScalingGroupName"))
        for arn in group.get("TargetGroupARNs", []):
            attached.setdefault(str(arn), name)
        for source in group.get("TrafficSources", []):
            if ":targetgroup/" in str(source.get("Identifier", "")):
                attached.setdefault(str(source["Identifier"]), name)
    return attached


@dataclass
class Inventory:
    ec2: EC2Client
    autoscaling: AutoScalingClient
    region: str
    _read: dict[str, Any] = field(default_factory=dict)

    def _once[T](self, part: str, read: Callable[[], T]) -> T:
        if part not in self._read:
            self._read[part] = read()
        value: T = self._read[part]
        return value

    # ------------------------------------------------------------------ EC2
    def volumes(self) -> list[Any]:
        return self._once("volumes", lambda: [
            v for page in self.ec2.get_paginator("describe_volumes").paginate(
                PaginationConfig={"PageSize": PAGE}) for v in page.get("Volumes", [])])

    def volume_ids(self) -> frozenset[str]:
        return self._once("volume_ids", lambda: frozenset(v["VolumeId"] for v in self.volumes()))

    def snapshots(self) -> dict[str, Any]:
        """The account's own snapshots, by id."""
        return self._once("snapshots", lambda: {
            s["SnapshotId"]: s for page in self.ec2.get_paginator("describe_snapshots").paginate(
                OwnerIds=["self"], PaginationConfig={"PageSize": PAGE})
            for s in page.get("Snapshots", [])})

    def images(self) -> list[Any]:
        """The account's own AMIs, disabled ones included (DescribeImages hides them unless
        asked, and their snapshots cannot be deleted)."""
        return self._once("images", lambda: read_images(self.ec2))

    def instances(self) -> list[Any]:
        """Every instance, in any state (recently terminated ones included)."""
        return self._once("instances", lambda: [
            i for page in self.ec2.get_paginator("describe_instances").paginate()
            for r in page.get("Reservations", []) for i in r.get("Instances", [])])

    def templates(self) -> dict[str, int]:
        """Launch template id -> its latest version number."""
        return self._once("templates", lambda: read_templates(self.ec2))

    def template_versions(self) -> list[Any]:
        return self._once("template_versions", lambda: read_versions(self.ec2, self.templates()))

    # ------------------------------------------------------------------ Auto Scaling
    def groups(self) -> list[Any]:
        return self._once("groups", lambda: read_groups(self.autoscaling))

    def launch_configurations(self) -> list[Any]:
        return self._once("launch_configurations",
                          lambda: read_configurations(self.autoscaling))

    # ------------------------------------------------------------------ users
    def snapshot_users(self) -> Mapping[str, str]:
        return self._once("snapshot_users", lambda: (
            image_users(self.images()) | template_users(self.template_versions())
            | configuration_users(self.launch_configurations())).snapshots)

    def image_users(self) -> Mapping[str, str]:
        return self._once("image_users", lambda: (
            instance_users(self.instances()) | template_users(self.template_versions())
            | configuration_users(self.launch_configurations())).images)

    def attached_target_groups(self) -> dict[str, str]:
        return self._once("attached", lambda: group_target_groups(self.groups()))


# The reads, also made afresh just before a delete (reread.py).
def read_images(ec2: EC2Client, image_ids: Sequence[str] = ()) -> list[Any]:
    filters: list[FilterTypeDef] = (
        [{"Name": "image-id", "Values": list(image_ids)}] if image_ids else [])
    return [i for page in ec2.get_paginator("describe_images").paginate(
        Owners=["self"], IncludeDisabled=True, Filters=filters) for i in page.get("Images", [])]


def read_templates(ec2: EC2Client) -> dict[str, int]:
    return {t["LaunchTemplateId"]: int(t.get("LatestVersionNumber", 0))
            for page in ec2.get_paginator("describe_launch_templates").paginate()
            for t in page.get("LaunchTemplates", [])}


def read_versions(ec2: EC2Client, template_ids: Iterable[str]) -> list[Any]:
    """Every version of each template: no call lists the versions of several templates."""
    return [v for template_id in template_ids
            for page in ec2.get_paginator("describe_launch_template_versions").paginate(
                LaunchTemplateId=template_id)
            for v in page.get("LaunchTemplateVersions", [])]


def read_groups(autoscaling: AutoScalingClient) -> list[Any]:
    return [g for page in autoscaling.get_paginator("describe_auto_scaling_groups").paginate()
            for g in page.get("AutoScalingGroups", [])]


def read_configurations(autoscaling: AutoScalingClient) -> list[Any]:
    return [c for page in autoscaling.get_paginator("describe_launch_configurations").paginate()
            for c in page.get("LaunchConfigurations", [])]


@dataclass
class Inventories:
    """Each region's inventory in one invocation, read at most once and shared by the targets
    of the same account: a snapshot in one region may be the copy of a volume in another."""

    regions: Callable[[], Sequence[str]]  # the regions the run covers
    _cache: dict[tuple[str, str], Inventory] = field(default_factory=dict)

    def of(self, target: Target, region: str | None = None) -> Inventory:
        region = region or target.region
        key = (target.account_id, region)
        if key not in self._cache:
            session = target.session
            self._cache[key] = Inventory(session.client("ec2", region_name=region),
                                         session.client("autoscaling", region_name=region),
                                         region)
        return self._cache[key]

    def covered(self, target: Target) -> list[Inventory]:
        """The target's region first, then the other regions the run covers."""
        return [self.of(target, region) for region in dict.fromkeys([target.region,
                                                                     *self.regions()])]
