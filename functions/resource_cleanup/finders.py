"""Reads: every resource of the enabled types, split into unused candidates and resources that
carry the cleanup mark but are in use again (the mark is then removed)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from opskit.actions import error_code
from opskit.tags import tags_to_dict
from resource_cleanup import prices
from resource_cleanup.settings import (
    ADDRESS,
    BALANCER,
    CLEANUP_TAG,
    FINAL_COPY_TAG,
    IMAGE,
    INTERFACE,
    LOG_GROUP,
    SNAPSHOT,
    STOPPED,
    VOLUME,
    CleanupConfig,
)

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_logs import CloudWatchLogsClient

PAGE = 1000
ELB_TAGS_PER_CALL = 20
_STOPPED_AT = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")


@dataclass(frozen=True, slots=True)
class Candidate:
    kind: str
    resource: str
    why: str
    created: datetime | None
    tags: Mapping[str, str] = field(default_factory=dict)
    monthly_cost: float = 0.0
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def marked(self) -> bool:
        return CLEANUP_TAG in self.tags


@dataclass
class Found:
    candidates: list[Candidate] = field(default_factory=list)
    back_in_use: list[Candidate] = field(default_factory=list)

    def add(self, candidate: Candidate, *, unused: bool) -> None:
        if unused:
            self.candidates.append(candidate)
        elif candidate.marked:
            self.back_in_use.append(candidate)


@dataclass
class Finder:
    ec2: EC2Client
    elbv2: ElasticLoadBalancingv2Client
    logs: CloudWatchLogsClient
    config: CleanupConfig
    region: str
    account: str
    now: datetime
    _volumes: list[Any] | None = None
    _images: list[Any] | None = None

    def find(self) -> Found:
        found = Found()
        readers = {VOLUME: self.volumes, ADDRESS: self.addresses, SNAPSHOT: self.snapshots,
                   IMAGE: self.images_unused, INTERFACE: self.interfaces,
                   BALANCER: self.balancers, LOG_GROUP: self.log_groups,
                   STOPPED: self.stopped_instances}
        for kind, read in readers.items():
            if kind in self.config.types:
                read(found)
        return found

    def _price(self, usd: float) -> float:
        return prices.in_region(usd, self.region)

    # ------------------------------------------------------------------ EC2
    def all_volumes(self) -> list[Any]:
        if self._volumes is None:
            self._volumes = [v for page in self.ec2.get_paginator("describe_volumes").paginate(
                PaginationConfig={"PageSize": PAGE}) for v in page.get("Volumes", [])]
        return self._volumes

    def all_images(self) -> list[Any]:
        if self._images is None:
            self._images = list(self.ec2.describe_images(Owners=["self"]).get("Images", []))
        return self._images

    def volumes(self, found: Found) -> None:
        for volume in self.all_volumes():
            size, kind = volume.get("Size", 0), volume.get("VolumeType", "gp3")
            found.add(Candidate(
                VOLUME, volume["VolumeId"], f"unattached {size} GiB {kind} volume",
                volume.get("CreateTime"), tags_to_dict(volume.get("Tags")),
                self._price(size * prices.VOLUME_GB.get(kind, 0.1)),
                {"size_gib": size, "volume_type": kind}),
                unused=volume.get("State") == "available")

    def addresses(self, found: Found) -> None:
        for address in self.ec2.describe_addresses().get("Addresses", []):
            if "AllocationId" not in address:
                continue  # EC2-Classic addresses cannot be tagged or released by id
            found.add(Candidate(
                ADDRESS, address["AllocationId"],
                f"Elastic IP {address.get('PublicIp', '?')} not associated", None,
                tags_to_dict(address.get("Tags")), self._price(prices.IDLE_ADDRESS),
                {"public_ip": address.get("PublicIp")}),
                unused="AssociationId" not in address)

    def snapshots(self, found: Found) -> None:
        volumes = {v["VolumeId"] for v in self.all_volumes()}
        in_images = {mapping["Ebs"]["SnapshotId"] for image in self.all_images()
                     for mapping in image.get("BlockDeviceMappings", [])
                     if mapping.get("Ebs", {}).get("SnapshotId")}
        oldest = self.now - timedelta(days=self.config.snapshot_age_days)
        pages = self.ec2.get_paginator("describe_snapshots").paginate(
            OwnerIds=["self"], PaginationConfig={"PageSize": PAGE})
        for page in pages:
            for snap in page.get("Snapshots", []):
                if snap.get("OwnerId", self.account) != self.account:
                    continue  # OwnerIds=self already means ours; never act on anyone else's
                if FINAL_COPY_TAG in tags_to_dict(snap.get("Tags")):
                    continue  # the last copy of a removed volume: kept until a person decides
                started = snap.get("StartTime")
                unused = (snap.get("VolumeId") not in volumes
                          and snap["SnapshotId"] not in in_images
                          and started is not None and started < oldest)
                size = snap.get("VolumeSize", 0)
                found.add(Candidate(
                    SNAPSHOT, snap["SnapshotId"],
                    f"snapshot older than {self.config.snapshot_age_days} days of a deleted "
                    "volume, in no AMI", started, tags_to_dict(snap.get("Tags")),
                    self._price(size * prices.SNAPSHOT_GB), {"size_gib": size}),
                    unused=unused)

    def images_unused(self, found: Found) -> None:
        used: set[str] = set()
        for page in self.ec2.get_paginator("describe_instances").paginate():
            for reservation in page.get("Reservations", []):
                used.update(i.get("ImageId", "") for i in reservation.get("Instances", []))
        for templates in self.ec2.get_paginator("describe_launch_templates").paginate():
            for template in templates.get("LaunchTemplates", []):
                versions = self.ec2.describe_launch_template_versions(
                    LaunchTemplateId=template["LaunchTemplateId"],
                    Versions=["$Latest", "$Default"])
                used.update(v.get("LaunchTemplateData", {}).get("ImageId", "")
                            for v in versions.get("LaunchTemplateVersions", []))
        oldest = self.now - timedelta(days=self.config.image_age_days)
        for image in self.all_images():
            created = _iso(image.get("CreationDate"))
            size = sum(m.get("Ebs", {}).get("VolumeSize", 0)
                       for m in image.get("BlockDeviceMappings", []))
            found.add(Candidate(
                IMAGE, image["ImageId"], f"AMI older than {self.config.image_age_days} days, "
                "used by no instance or launch template", created,
                tags_to_dict(image.get("Tags")), self._price(size * prices.SNAPSHOT_GB),
                {"name": image.get("Name", "")}),
                unused=(image["ImageId"] not in used and created is not None
                        and created < oldest))

    def interfaces(self, found: Found) -> None:
        pages = self.ec2.get_paginator("describe_network_interfaces").paginate(
            PaginationConfig={"PageSize": PAGE})
        for page in pages:
            for eni in page.get("NetworkInterfaces", []):
                if eni.get("RequesterManaged"):
                    continue  # owned by an AWS service, which removes it itself
                found.add(Candidate(
                    INTERFACE, eni["NetworkInterfaceId"], "detached network interface", None,
                    tags_to_dict(eni.get("TagSet")), 0.0,
                    {"subnet": eni.get("SubnetId"), "description": eni.get("Description", "")}),
                    unused=eni.get("Status") == "available")

    def stopped_instances(self, found: Found) -> None:
        pages = self.ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-state-name", "Values": ["stopped"]}])
        for page in pages:
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    match = _STOPPED_AT.search(instance.get("StateTransitionReason", ""))
                    since = (datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
                             .replace(tzinfo=UTC) if match else None)
                    long_ago = (since is not None and
                                self.now - since > timedelta(days=self.config.stopped_days))
                    found.add(Candidate(
                        STOPPED, instance["InstanceId"],
                        f"stopped since {since:%Y-%m-%d}" if since else "stopped", since,
                        tags_to_dict(instance.get("Tags")), 0.0,
                        {"instance_type": instance.get("InstanceType")}),
                        unused=long_ago)

    # ------------------------------------------------------------------ ELBv2
    def balancers(self, found: Found) -> None:
        balancers = [lb for page in self.elbv2.get_paginator("describe_load_balancers")
                     .paginate() for lb in page.get("LoadBalancers", [])]
        tags = self._elb_tags([lb["LoadBalancerArn"] for lb in balancers])
        for lb in balancers:
            arn = lb["LoadBalancerArn"]
            try:
                groups = self.elbv2.describe_target_groups(LoadBalancerArn=arn).get(
                    "TargetGroups", [])
            except ClientError as exc:
                if error_code(exc) != "TargetGroupNotFound":
                    raise
                groups = []  # some endpoints answer "not found" for a balancer without any
            targets = sum(len(self.elbv2.describe_target_health(
                TargetGroupArn=g["TargetGroupArn"]).get("TargetHealthDescriptions", []))
                for g in groups)
            kind = str(lb.get("Type", "application"))
            found.add(Candidate(
                BALANCER, arn, f"{kind} load balancer with no registered target",
                lb.get("CreatedTime"), tags.get(arn, {}),
                self._price(prices.BALANCER.get(kind, 16.43)),
                {"name": lb.get("LoadBalancerName"), "target_groups": len(groups)}),
                unused=targets == 0)

    def _elb_tags(self, arns: list[str]) -> dict[str, dict[str, str]]:
        tags: dict[str, dict[str, str]] = {}
        for start in range(0, len(arns), ELB_TAGS_PER_CALL):
            response = self.elbv2.describe_tags(ResourceArns=arns[start:start + ELB_TAGS_PER_CALL])
            for entry in response.get("TagDescriptions", []):
                tags[entry["ResourceArn"]] = tags_to_dict(entry.get("Tags"))
        return tags

    # ------------------------------------------------------------------ Logs
    def log_groups(self, found: Found) -> None:
        for page in self.logs.get_paginator("describe_log_groups").paginate():
            for group in page.get("logGroups", []):
                if group.get("retentionInDays"):
                    continue  # has a retention: nothing to fix (and never marked by us)
                arn = str(group.get("arn", "")).removesuffix(":*")
                created = datetime.fromtimestamp(group.get("creationTime", 0) / 1000, UTC)
                stored_gb = group.get("storedBytes", 0) / 1e9
                age_days = max((self.now - created).days, 1)
                share = max(0.0, 1 - self.config.log_retention_days / age_days)
                tags = self.logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
                found.add(Candidate(
                    LOG_GROUP, arn, "log group kept forever (no retention)", created, tags,
                    self._price(stored_gb * share * prices.LOG_STORAGE_GB),
                    {"name": group.get("logGroupName"), "stored_gb": round(stored_gb, 3)}),
                    unused=True)


def _iso(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def iter_kinds(candidates: Iterable[Candidate]) -> dict[str, list[Candidate]]:
    grouped: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        grouped.setdefault(candidate.kind, []).append(candidate)
    return grouped
