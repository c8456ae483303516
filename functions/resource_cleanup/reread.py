"""The re-read just before a delete: what made each due resource unused, and its tags, read
again in batches, since the run's inventory may be minutes old. An Elastic IP is also looked up
in CloudTrail's event history: an address associated and released again between two daily runs
was never seen in use by either."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from opskit.actions import error_code
from opskit.tags import tags_to_dict
from resource_cleanup.finders import (
    Candidate,
    address_use,
    balancer_use,
    elb_tags,
    interface_use,
    target_count,
    volume_use,
)
from resource_cleanup.inventory import (
    Inventory,
    Users,
    configuration_users,
    group_target_groups,
    image_users,
    instance_users,
    read_configurations,
    read_groups,
    read_images,
    read_templates,
    read_versions,
    template_users,
)
from resource_cleanup.lifecycle import Reread, due_date
from resource_cleanup.settings import (
    ADDRESS,
    BALANCER,
    IMAGE,
    INTERFACE,
    LOG_GROUP,
    SNAPSHOT,
    VOLUME,
    CleanupConfig,
)

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_logs import CloudWatchLogsClient

REREAD_BATCH = 100  # resources re-read, then deleted, at a time (EC2 filters take 200 values)
HISTORY_DAYS = 90  # how far back CloudTrail's event history goes
# The calls that give an Elastic IP a use (an instance or interface, a NAT gateway).
ASSOCIATING = ("AssociateAddress", "CreateNatGateway")


class EventHistory(Protocol):
    """CloudTrail's LookupEvents (the client, typed by what is used of it)."""

    def lookup_events(self, **kwargs: Any) -> Mapping[str, Any]: ...


@dataclass
class Rereader:
    elbv2: ElasticLoadBalancingv2Client
    logs: CloudWatchLogsClient
    cloudtrail: EventHistory
    config: CleanupConfig
    now: datetime
    inventory: Inventory  # this region's, for what it read of the launch templates

    def reread(self, kind: str, candidates: Sequence[Candidate]) -> dict[str, Reread]:
        readers: dict[str, Callable[[Sequence[Candidate]], dict[str, Reread]]] = {
            VOLUME: self.volumes, ADDRESS: self.addresses, SNAPSHOT: self.snapshots,
            IMAGE: self.images, INTERFACE: self.interfaces, BALANCER: self.balancers,
            LOG_GROUP: self.log_groups}
        return readers[kind](candidates)

    @property
    def ec2(self) -> EC2Client:
        return self.inventory.ec2

    @staticmethod
    def _filter(name: str, candidates: Sequence[Candidate]) -> list[Any]:
        return [{"Name": name, "Values": [c.resource for c in candidates]}]

    # ------------------------------------------------------------------ EC2
    def volumes(self, candidates: Sequence[Candidate]) -> dict[str, Reread]:
        found = {v["VolumeId"]: v for page in self.ec2.get_paginator("describe_volumes")
                 .paginate(Filters=self._filter("volume-id", candidates))
                 for v in page.get("Volumes", [])}
        return {c.resource: Reread(tags_to_dict(v.get("Tags")), in_use=volume_use(v))
                if (v := found.get(c.resource)) is not None else Reread() for c in candidates}

    def interfaces(self, candidates: Sequence[Candidate]) -> dict[str, Reread]:
        found = {i["NetworkInterfaceId"]: i
                 for page in self.ec2.get_paginator("describe_network_interfaces").paginate(
                     Filters=self._filter("network-interface-id", candidates))
                 for i in page.get("NetworkInterfaces", [])}
        return {c.resource: Reread(tags_to_dict(i.get("TagSet")), in_use=interface_use(i))
                if (i := found.get(c.resource)) is not None else Reread() for c in candidates}

    def addresses(self, candidates: Sequence[Candidate]) -> dict[str, Reread]:
        found = {a["AllocationId"]: a for a in self.ec2.describe_addresses(
            Filters=self._filter("allocation-id", candidates)).get("Addresses", [])}
        unknown = None
        try:
            used = self.associations(candidates)
        except (ClientError, BotoCoreError) as exc:
            used = {}
            unknown = (f"CloudTrail's event history could not be read ({error_code(exc)}): "
                       "a use since the mark cannot be ruled out")
        return {c.resource: Reread(tags_to_dict(a.get("Tags")), in_use=address_use(a),
                                   used_since=used.get(c.resource), unknown=unknown)
                if (a := found.get(c.resource)) is not None else Reread() for c in candidates}

    def marked_since(self, candidate: Candidate) -> datetime:
        """When a run first saw it unused: its mark's date minus the grace period (at most
        CloudTrail's 90 days back)."""
        due = due_date(candidate.tags) or self.now.date()
        start = datetime.combine(due - timedelta(days=self.config.grace_days), time(), UTC)
        return max(start, self.now - timedelta(days=HISTORY_DAYS))

    def associations(self, candidates: Sequence[Candidate]) -> dict[str, str]:
        """Allocation id -> the call that gave the address a use since it was marked, from
        CloudTrail's event history: one query per call name and region, paginated."""
        since = {c.resource: self.marked_since(c) for c in candidates}
        needles = {c.resource: {f'"{c.resource}"', f'"{c.details.get("public_ip")}"'}
                   for c in candidates}
        used: dict[str, str] = {}
        for name in ASSOCIATING:
            token: str | None = None
            while True:
                page = self.cloudtrail.lookup_events(
                    LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}],
                    StartTime=min(since.values()), **({"NextToken": token} if token else {}))
                for event in page.get("Events", []):
                    when = event.get("EventTime")
                    text = str(event.get("CloudTrailEvent", "")) + json.dumps(
                        event.get("Resources", []))
                    for resource, marks in needles.items():
                        if (resource not in used and any(m in text for m in marks)
                                and isinstance(when, datetime) and when >= since[resource]):
                            used[resource] = (f"{name} at {when.astimezone(UTC):%Y-%m-%d %H:%M} "
                                              "UTC (CloudTrail)")
                token = page.get("NextToken")
                if not token:
                    break
        return used

    def _template_users(self) -> Users:
        """Every version of every launch template: the inventory's, and those of templates
        created or given a new version since (versions never change once written)."""
        current = read_templates(self.ec2)
        known = self.inventory.templates()
        changed = [t for t, latest in current.items() if known.get(t) != latest]
        kept = [v for v in self.inventory.template_versions()
                if v.get("LaunchTemplateId") in current]
        return (template_users(kept + read_versions(self.ec2, changed))
                | configuration_users(read_configurations(self.inventory.autoscaling)))

    def snapshots(self, candidates: Sequence[Candidate]) -> dict[str, Reread]:
        found = {s["SnapshotId"]: s for page in self.ec2.get_paginator("describe_snapshots")
                 .paginate(OwnerIds=["self"], Filters=self._filter("snapshot-id", candidates))
                 for s in page.get("Snapshots", [])}
        users = (image_users(read_images(self.ec2)) | self._template_users()).snapshots
        return {c.resource: Reread(tags_to_dict(s.get("Tags")), in_use=_used_by(
            users.get(c.resource))) if (s := found.get(c.resource)) is not None else Reread()
            for c in candidates}

    def images(self, candidates: Sequence[Candidate]) -> dict[str, Reread]:
        ids = [c.resource for c in candidates]
        found = {i["ImageId"]: i for i in read_images(self.ec2, ids)}
        instances = [i for page in self.ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "image-id", "Values": ids}])
            for r in page.get("Reservations", []) for i in r.get("Instances", [])]
        users = (instance_users(instances) | self._template_users()).images
        return {c.resource: Reread(tags_to_dict(i.get("Tags")), in_use=_used_by(
            users.get(c.resource))) if (i := found.get(c.resource)) is not None else Reread()
            for c in candidates}

    # ------------------------------------------------------------------ ELBv2
    def balancers(self, candidates: Sequence[Candidate]) -> dict[str, Reread]:
        wanted = {c.resource for c in candidates}
        present = [lb["LoadBalancerArn"] for page in self.elbv2.get_paginator(
            "describe_load_balancers").paginate() for lb in page.get("LoadBalancers", [])
            if lb["LoadBalancerArn"] in wanted]
        tags = elb_tags(self.elbv2, present)
        attached = group_target_groups(read_groups(self.inventory.autoscaling))
        result = {c.resource: Reread() for c in candidates}
        for arn in present:
            try:
                groups = [g for page in self.elbv2.get_paginator("describe_target_groups")
                          .paginate(LoadBalancerArn=arn) for g in page.get("TargetGroups", [])]
            except ClientError as exc:
                if error_code(exc) != "TargetGroupNotFound":
                    raise
                groups = []  # some endpoints answer "not found" for a balancer without any
            result[arn] = Reread(tags.get(arn, {}), in_use=balancer_use(
                groups, attached, partial(target_count, self.elbv2)))
        return result

    # ------------------------------------------------------------------ Logs
    def log_groups(self, candidates: Sequence[Candidate]) -> dict[str, Reread]:
        result: dict[str, Reread] = {}
        for candidate in candidates:
            name = str(candidate.details.get("name"))
            # Names sort: the group itself comes first among those it prefixes.
            groups = self.logs.describe_log_groups(logGroupNamePrefix=name, limit=1)
            group = next((g for g in groups.get("logGroups", [])
                          if g.get("logGroupName") == name), None)
            if group is None:
                result[candidate.resource] = Reread()
                continue
            tags = self.logs.list_tags_for_resource(resourceArn=candidate.resource).get(
                "tags", {})
            retention = group.get("retentionInDays")
            result[candidate.resource] = Reread(tags, in_use=(
                f"it has a retention of {retention} days" if retention else None))
        return result


def _used_by(user: str | None) -> str | None:
    return f"used by {user}" if user else None
