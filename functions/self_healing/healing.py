"""An alarm in ALARM -> its target -> guard rails -> one healing action (or a reported refusal).

Guard rails, in order: the alarm opted in (tag or mapping), the target is known, not exempt, not
healed within the cooldown (a tag on the target), fewer than the hourly maximum of heals in the
account (the same tag, counted through the Resource Groups Tagging API), and the alarm is not
flapping (its history). Every refusal is reported with the alarm's link.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from opskit.actions import Action, Executor, Status, error_code
from opskit.runner import TargetRun
from opskit.tags import is_exempt, tags_to_dict
from self_healing.alarm import AlarmChange
from self_healing.settings import REMEDIES, HealConfig

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient

SYSTEM_CHECK = "StatusCheckFailed_System"


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # ec2:instance, autoscaling:instance, ecs:service, lambda:function
    resource: str
    tags: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Clients:
    ec2: EC2Client
    ecs: ECSClient
    autoscaling: AutoScalingClient
    cloudwatch: CloudWatchClient
    tagging: ResourceGroupsTaggingAPIClient


def alarm_tags(clients: Clients, alarm: AlarmChange) -> dict[str, str]:
    response = clients.cloudwatch.list_tags_for_resource(ResourceARN=alarm.arn)
    return tags_to_dict(response.get("Tags"))


def find_target(clients: Clients, alarm: AlarmChange) -> Target | str:
    """The alarm's target from its dimensions, or why there is none."""
    dims = alarm.dimensions
    if "InstanceId" in dims:
        instance_id = dims["InstanceId"]
        try:
            reservations = clients.ec2.describe_instances(
                InstanceIds=[instance_id])["Reservations"]
        except ClientError as exc:
            if error_code(exc) in {"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"}:
                return f"instance {instance_id} no longer exists"
            raise
        instances = [i for r in reservations for i in r.get("Instances", [])]
        if not instances:
            return f"instance {instance_id} no longer exists"
        instance = instances[0]
        details = {"state": instance["State"]["Name"],
                   "root_device": instance.get("RootDeviceType", "ebs"),
                   "lifecycle": instance.get("InstanceLifecycle", "on-demand")}
        groups = clients.autoscaling.describe_auto_scaling_instances(
            InstanceIds=[instance_id]).get("AutoScalingInstances", [])
        if groups:
            return Target("autoscaling:instance", instance_id, tags_to_dict(instance.get("Tags")),
                          {**details, "group": groups[0]["AutoScalingGroupName"]})
        return Target("ec2:instance", instance_id, tags_to_dict(instance.get("Tags")), details)
    if "ClusterName" in dims and "ServiceName" in dims:
        try:
            services = clients.ecs.describe_services(
                cluster=dims["ClusterName"], services=[dims["ServiceName"]],
                include=["TAGS"]).get("services", [])
        except ClientError as exc:
            if error_code(exc) != "ClusterNotFoundException":
                raise
            services = []
        if not services or services[0].get("status") != "ACTIVE":
            return f"ECS service {dims['ServiceName']} is not active in {dims['ClusterName']}"
        service = services[0]
        tags = {t["key"]: t["value"] for t in service.get("tags", [])}
        return Target("ecs:service", service["serviceArn"], tags,
                      {"cluster": dims["ClusterName"], "service": dims["ServiceName"]})
    if "FunctionName" in dims:
        return Target("lambda:function", dims["FunctionName"], {}, {})
    if "AutoScalingGroupName" in dims:
        return (f"the alarm watches group {dims['AutoScalingGroupName']} as a whole: no instance "
                "to replace (alarm on an instance's metrics instead)")
    shown = ", ".join(f"{k}={v}" for k, v in dims.items()) or "none"
    return f"no target this automation can heal in the alarm's dimensions ({shown})"


def choose(remedy: str, target: Target, alarm: AlarmChange) -> str | None:
    """The action for this target kind, or None when the remedy does not fit it."""
    if target.kind == "lambda:function" or remedy == "report":
        return "report"
    if target.kind == "ecs:service":
        return "redeploy" if remedy in {"auto", "redeploy"} else None
    if target.kind == "autoscaling:instance":
        return "replace" if remedy in {"auto", "replace"} else None
    if remedy == "auto":
        return "stop-start" if alarm.metric == SYSTEM_CHECK else "reboot"
    return remedy if remedy in {"reboot", "stop-start"} else None


def stamp_time(value: str | None) -> datetime | None:
    """A heal stamp's time; one without an offset is UTC, one that is not a time is ignored."""
    try:
        when = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


@dataclass
class Guards:
    """Reads behind the guard rails (tests replace `history` where moto has no API)."""

    clients: Clients
    config: HealConfig
    now: datetime

    def cooling(self, target: Target) -> str | None:
        last = stamp_time(target.tags.get(self.config.healed_tag_key))
        if last is not None and self.now - last < timedelta(minutes=self.config.cooldown_minutes):
            return (f"cooldown: healed at {last:%H:%M} UTC, less than "
                    f"{self.config.cooldown_minutes} minutes ago")
        return None

    def heals_last_hour(self) -> int:
        since = self.now - timedelta(hours=1)
        count = 0
        pages = self.clients.tagging.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": self.config.healed_tag_key}])
        for page in pages:
            for resource in page.get("ResourceTagMappingList", []):
                stamp = stamp_time(tags_to_dict(resource.get("Tags")).get(
                    self.config.healed_tag_key))
                if stamp is not None and stamp >= since:
                    count += 1
        return count

    def history(self, alarm: AlarmChange) -> int:
        """How many times the alarm went into ALARM in the last hour."""
        response = self.clients.cloudwatch.describe_alarm_history(
            AlarmName=alarm.name, HistoryItemType="StateUpdate",
            StartDate=self.now - timedelta(hours=1), EndDate=self.now, MaxRecords=100)
        return sum("to ALARM" in str(item.get("HistorySummary", ""))
                   for item in response.get("AlarmHistoryItems", []))


def heal(clients: Clients, alarm: AlarmChange, executor: Executor, config: HealConfig,
         guards: Guards) -> TargetRun:
    base = {"alarm": alarm.name, "alarm_link": alarm.link, "state_reason": alarm.reason}
    if alarm.state != "ALARM":
        return TargetRun(title=f"{alarm.name} is {alarm.state}: nothing to heal", extra=base)
    remedy = config.remedy_for(alarm.name, alarm_tags(clients, alarm))
    if remedy is None:
        return TargetRun(title=f"{alarm.name} has not opted in to healing", extra=base)

    def refuse(why: str, target: Target | None = None, planned: str | None = None) -> TargetRun:
        if target is not None:
            executor.skip(Action(target.resource, target.kind, planned or remedy or "heal",
                                 alarm.name, {**base, **target.details}), why)
        return TargetRun(title=f"No healing for {alarm.name}: {why}", severity="warning",
                         extra={**base, "notes": [why]})

    found = find_target(clients, alarm)
    if isinstance(found, str):
        return refuse(found)
    if remedy not in REMEDIES:
        return refuse(f"tag {config.heal_tag_key}={remedy!r} is invalid: expected one of "
                      f"{', '.join(REMEDIES)}", found)
    action = choose(remedy, found, alarm)
    if action is None:
        return refuse(f"remedy {remedy!r} does not apply to {found.kind} targets", found)
    state = found.details.get("state")
    if state is not None and state != "running":
        return refuse(f"the instance is {state}: nothing to restart", found, action)
    if is_exempt(found.tags, config.common.exemption_tag_key):
        return refuse(f"exempt: tagged {config.common.exemption_tag_key}", found, action)
    if action == "report":
        executor.run([Action(found.resource, found.kind, "report", alarm.reason,
                             {**base, **found.details})], lambda _: None)
        return TargetRun(title=f"{alarm.name}: {found.kind} {found.resource} is unhealthy "
                               "(nothing to restart: reported)", severity="warning", extra=base)
    if action == "stop-start" and (found.details.get("root_device") != "ebs"
                                   or found.details.get("lifecycle") == "spot"):
        return refuse("stop/start would lose an instance-store root or a spot instance", found,
                      action)
    why = guards.cooling(found)
    if why is None and guards.heals_last_hour() >= config.max_actions_per_hour:
        why = f"limit: {config.max_actions_per_hour} heals already in the last hour"
    if why is None and guards.history(alarm) >= config.flap_threshold:
        why = (f"flapping: {config.flap_threshold} or more changes to ALARM in the last hour; "
               "a person should look")
    if why is not None:
        return refuse(why, found, action)
    apply = _applier(clients, found, action, config, guards.now)
    (outcome,) = executor.run([Action(found.resource, found.kind, action,
                                      f"{alarm.name}: {alarm.reason}", {**base, **found.details},
                                      found.tags)], apply)
    if outcome.status == Status.FAILED:
        return TargetRun(title=f"Could not {action} {found.resource} ({alarm.name})",
                         severity="critical", extra=base)
    verb = "Would" if executor.dry_run else "Did"
    return TargetRun(title=f"{verb} {action} {found.resource} ({alarm.name})",
                     severity="warning", extra=base)


def _applier(clients: Clients, target: Target, action: str, config: HealConfig,
             now: datetime) -> Callable[[Sequence[Action]], None]:
    stamp = [{"Key": config.healed_tag_key, "Value": now.isoformat(timespec="seconds")}]

    def apply(_: Sequence[Action]) -> None:
        if target.kind == "ecs:service":
            clients.ecs.update_service(cluster=str(target.details["cluster"]),
                                       service=str(target.details["service"]),
                                       forceNewDeployment=True)
            clients.ecs.tag_resource(resourceArn=target.resource, tags=[
                {"key": config.healed_tag_key, "value": stamp[0]["Value"]}])
            return
        if action == "replace":
            clients.autoscaling.set_instance_health(InstanceId=target.resource,
                                                    HealthStatus="Unhealthy",
                                                    ShouldRespectGracePeriod=True)
        elif action == "reboot":
            clients.ec2.reboot_instances(InstanceIds=[target.resource])
        else:  # stop-start: a new host for a failed system status check
            clients.ec2.stop_instances(InstanceIds=[target.resource])
            clients.ec2.get_waiter("instance_stopped").wait(
                InstanceIds=[target.resource], WaiterConfig={"Delay": 15, "MaxAttempts": 40})
            clients.ec2.start_instances(InstanceIds=[target.resource])
        clients.ec2.create_tags(Resources=[target.resource], Tags=stamp)  # type: ignore[arg-type]

    return apply
