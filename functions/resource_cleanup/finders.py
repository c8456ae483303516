"""Reads: every resource of the enabled types, split into unused candidates and resources that
carry the cleanup mark but are in use again (the mark is then removed)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from opskit.observability import logger
from opskit.tags import tags_to_dict
from resource_cleanup import prices
from resource_cleanup.inventory import Inventory
from resource_cleanup.lineage import Lineage, Origins, lineage_of, live_origin
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
    retention_prefix,
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
    # resource -> why it is in use, for the marked ones in use again
    in_use: dict[str, str] = field(default_factory=dict)

    def add(self, candidate: Candidate, *, unused: bool, because: str | None = None) -> None:
        if unused:
            self.candidates.append(candidate)
        elif candidate.marked:
            self.back_in_use.append(candidate)
            if because:
                self.in_use[candidate.resource] = because


# Why a resource is in use, from what a describe call returns (also used by the re-read).
def volume_use(volume: Mapping[str, Any]) -> str | None:
    state = volume.get("State")
    if state == "available":
        return None
    attached = [a.get("InstanceId") for a in volume.get("Attachments", []) if a.get("InstanceId")]
    return f"attached to {', '.join(attached)}" if attached else f"volume {state}"


def address_use(address: Mapping[str, Any]) -> str | None:
    if "AssociationId" not in address:
        return None
    return "associated with " + str(address.get("InstanceId") or address.get(
        "NetworkInterfaceId") or address["AssociationId"])


def interface_use(interface: Mapping[str, Any]) -> str | None:
    status = interface.get("Status")
    return None if status == "available" else f"interface {status}"


def balancer_use(groups: Sequence[Mapping[str, Any]], attached: Mapping[str, str],
                 targets: Callable[[str], int]) -> str | None:
    """In use when a target group of its listeners is attached to an Auto Scaling group, at
    any size, or has a registered target, healthy or not. `targets` is asked only when needed,
    group by group, and not past the first group with one."""
    for group in groups:
        if group["TargetGroupArn"] in attached:
            return (f"target group {group.get('TargetGroupName')} is attached to Auto Scaling "
                    f"group {attached[group['TargetGroupArn']]}")
    for group in groups:
        count = targets(group["TargetGroupArn"])
        if count:
            return f"{count} target(s) registered in target group {group.get('TargetGroupName')}"
    return None


@dataclass
class Finder:
    elbv2: ElasticLoadBalancingv2Client
    logs: CloudWatchLogsClient
    config: CleanupConfig
    account: str
    now: datetime
    inventory: Inventory  # this region's
    covered: Callable[[], Sequence[Inventory]]  # every region the run covers, this one first
    _others: list[Inventory] | None = None
    _origins: Origins | None = None
    _snapshot_users: Mapping[str, str] | None = None

    @property
    def ec2(self) -> EC2Client:
        return self.inventory.ec2

    @property
    def region(self) -> str:
        return self.inventory.region

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
    def volumes(self, found: Found) -> None:
        for volume in self.inventory.volumes():
            size, kind = volume.get("Size", 0), volume.get("VolumeType", "gp3")
            because = volume_use(volume)
            found.add(Candidate(
                VOLUME, volume["VolumeId"], f"unattached {size} GiB {kind} volume",
                volume.get("CreateTime"), tags_to_dict(volume.get("Tags")),
                self._price(size * prices.VOLUME_GB.get(kind, 0.1)),
                {"size_gib": size, "volume_type": kind}),
                unused=because is None, because=because)

    def addresses(self, found: Found) -> None:
        for address in self.ec2.describe_addresses().get("Addresses", []):
            if "AllocationId" not in address:
                continue  # EC2-Classic addresses cannot be tagged or released by id
            because = address_use(address)
            found.add(Candidate(
                ADDRESS, address["AllocationId"],
                f"Elastic IP {address.get('PublicIp', '?')} not associated", None,
                tags_to_dict(address.get("Tags")), self._price(prices.IDLE_ADDRESS),
                {"public_ip": address.get("PublicIp")}),
                unused=because is None, because=because)

    def other_regions(self) -> list[Inventory]:
        """The other covered regions' inventories that can be read. One that cannot (a region
        not enabled in this account, a policy that denies it) is left out, and a copy from it
        is then kept: its source cannot be checked."""
        if self._others is None:
            self._others = []
            for inventory in self.covered():
                if inventory is self.inventory:
                    continue
                try:
                    inventory.volume_ids()
                    inventory.snapshots()
                    inventory.snapshot_users()
                except (ClientError, BotoCoreError) as exc:
                    logger.warning("region not read", extra={
                        "region": inventory.region, "error": f"{type(exc).__name__}: {exc}"})
                    continue
                self._others.append(inventory)
        return self._others

    def origins(self) -> Origins:
        """Volumes and snapshots of every covered region that can be read."""
        if self._origins is None:
            regions = {inventory.region: inventory
                       for inventory in (self.inventory, *self.other_regions())}

            def places(region: str | None) -> list[Inventory]:
                if region is None:
                    return list(regions.values())
                return [regions[region]] if region in regions else []

            def volume_at(volume: str, region: str | None) -> str | None:
                return next((i.region for i in places(region) if volume in i.volume_ids()), None)

            def snapshot_at(snapshot: str, region: str | None) -> tuple[str, Lineage] | None:
                for inventory in places(region):
                    found = inventory.snapshots().get(snapshot)
                    if found is not None:
                        return inventory.region, lineage_of(found, tags_to_dict(
                            found.get("Tags")))
                return None

            self._origins = Origins(frozenset(regions), volume_at, snapshot_at)
        return self._origins

    def snapshot_users(self) -> Mapping[str, str]:
        """What uses each snapshot in any region the run covers: AMIs (disabled ones too),
        every launch template version, launch configurations."""
        if self._snapshot_users is None:
            users = dict(self.inventory.snapshot_users())
            for inventory in self.other_regions():
                for snapshot, user in inventory.snapshot_users().items():
                    users.setdefault(snapshot, f"{user} in {inventory.region}")
            self._snapshot_users = users
        return self._snapshot_users

    def snapshot_use(self, snapshot: Mapping[str, Any], tags: Mapping[str, str]) -> str | None:
        """Why an old snapshot is still needed, cheapest test first."""
        volume = snapshot.get("VolumeId")
        if volume in self.inventory.volume_ids():
            return f"its volume {volume} exists"
        user = self.snapshot_users().get(snapshot["SnapshotId"])
        if user is not None:
            return f"used by {user}"
        return live_origin(lineage_of(snapshot, tags), self.origins())

    def snapshots(self, found: Found) -> None:
        oldest = self.now - timedelta(days=self.config.snapshot_age_days)
        for snap in self.inventory.snapshots().values():
            if snap.get("OwnerId", self.account) != self.account:
                continue  # OwnerIds=self already means ours; never act on anyone else's
            tags = tags_to_dict(snap.get("Tags"))
            if FINAL_COPY_TAG in tags:
                continue  # the last copy of a removed volume: kept until a person decides
            started = snap.get("StartTime")
            old = started is not None and started < oldest
            because = self.snapshot_use(snap, tags) if old else None
            size = snap.get("VolumeSize", 0)
            found.add(Candidate(
                SNAPSHOT, snap["SnapshotId"],
                f"snapshot older than {self.config.snapshot_age_days} days of a deleted "
                "volume, in no AMI or launch template", started, tags,
                self._price(size * prices.SNAPSHOT_GB), {"size_gib": size}),
                unused=old and because is None, because=because)

    def images_unused(self, found: Found) -> None:
        users = self.inventory.image_users()
        oldest = self.now - timedelta(days=self.config.image_age_days)
        for image in self.inventory.images():
            created = _iso(image.get("CreationDate"))
            size = sum(m.get("Ebs", {}).get("VolumeSize", 0)
                       for m in image.get("BlockDeviceMappings", []))
            user = users.get(image["ImageId"])
            found.add(Candidate(
                IMAGE, image["ImageId"], f"AMI older than {self.config.image_age_days} days, "
                "used by no instance, launch template or Auto Scaling group", created,
                tags_to_dict(image.get("Tags")), self._price(size * prices.SNAPSHOT_GB),
                {"name": image.get("Name", "")}),
                unused=(user is None and created is not None and created < oldest),
                because=f"used by {user}" if user else None)

    def interfaces(self, found: Found) -> None:
        pages = self.ec2.get_paginator("describe_network_interfaces").paginate(
            PaginationConfig={"PageSize": PAGE})
        for page in pages:
            for eni in page.get("NetworkInterfaces", []):
                if eni.get("RequesterManaged"):
                    continue  # owned by an AWS service, which removes it itself
                because = interface_use(eni)
                found.add(Candidate(
                    INTERFACE, eni["NetworkInterfaceId"], "detached network interface", None,
                    tags_to_dict(eni.get("TagSet")), 0.0,
                    {"subnet": eni.get("SubnetId"), "description": eni.get("Description", "")}),
                    unused=because is None, because=because)

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
        if not balancers:
            return
        tags = elb_tags(self.elbv2, [lb["LoadBalancerArn"] for lb in balancers])
        groups: dict[str, list[Any]] = {}  # every target group of the region, by balancer
        for page in self.elbv2.get_paginator("describe_target_groups").paginate():
            for group in page.get("TargetGroups", []):
                for arn in group.get("LoadBalancerArns", []):
                    groups.setdefault(arn, []).append(group)
        attached = self.inventory.attached_target_groups()
        for lb in balancers:
            arn = lb["LoadBalancerArn"]
            own = groups.get(arn, [])
            because = balancer_use(own, attached, partial(target_count, self.elbv2))
            kind = str(lb.get("Type", "application"))
            found.add(Candidate(
                BALANCER, arn, f"{kind} load balancer with no registered target",
                lb.get("CreatedTime"), tags.get(arn, {}),
                self._price(prices.BALANCER.get(kind, 16.43)),
                {"name": lb.get("LoadBalancerName"), "target_groups": len(own)}),
                unused=because is None, because=because)

    # ------------------------------------------------------------------ Logs
    def log_groups(self, found: Found) -> None:
        """Only the groups under LOG_RETENTION_PREFIXES (none by default), audit groups only
        under a prefix that names them."""
        seen: set[str] = set()
        for prefix in self.config.log_retention_prefixes:
            pages = self.logs.get_paginator("describe_log_groups").paginate(
                logGroupNamePrefix=prefix)
            for group in (g for page in pages for g in page.get("logGroups", [])):
                name = str(group.get("logGroupName", ""))
                if name in seen or group.get("retentionInDays"):
                    continue  # has a retention: nothing to fix (and never marked by us)
                seen.add(name)
                if retention_prefix(name, self.config.log_retention_prefixes) is None:
                    continue  # an audit trail under a prefix that does not name it
                arn = str(group.get("arn", "")).removesuffix(":*")
                created = datetime.fromtimestamp(group.get("creationTime", 0) / 1000, UTC)
                stored_gb = group.get("storedBytes", 0) / 1e9
                age_days = max((self.now - created).days, 1)
                share = max(0.0, 1 - self.config.log_retention_days / age_days)
                tags = self.logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
                found.add(Candidate(
                    LOG_GROUP, arn, "log group kept forever (no retention)", created, tags,
                    self._price(stored_gb * share * prices.LOG_STORAGE_GB),
                    {"name": name, "stored_gb": round(stored_gb, 3)}),
                    unused=True)


def elb_tags(elbv2: ElasticLoadBalancingv2Client, arns: list[str]) -> dict[str, dict[str, str]]:
    tags: dict[str, dict[str, str]] = {}
    for start in range(0, len(arns), ELB_TAGS_PER_CALL):
        response = elbv2.describe_tags(ResourceArns=arns[start:start + ELB_TAGS_PER_CALL])
        for entry in response.get("TagDescriptions", []):
            tags[entry["ResourceArn"]] = tags_to_dict(entry.get("Tags"))
    return tags


def target_count(elbv2: ElasticLoadBalancingv2Client, group_arn: str) -> int:
    """Registered targets of a target group, whatever their health (no call takes several)."""
    return len(elbv2.describe_target_health(TargetGroupArn=group_arn).get(
        "TargetHealthDescriptions", []))


def _iso(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None

