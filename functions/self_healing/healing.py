"""An alarm in ALARM -> its one target -> opt-in -> guard rails -> one action (or a refusal).

The alarm's metrics must name exactly one target. The target opts in by its own tag, or the
stack's mappings opt the alarm in by its name; the alarm's own tag only narrows that remedy.
Guard rails, in order: the target runs, is not exempt, is safe to act on (instance-store data,
spot, Auto Scaling protection and stateful groups), was not healed within the cooldown (a tag on
the target), fewer than the hourly maximum of heals in the account (the same tag, counted
through the Resource Groups Tagging API), and the alarm is not flapping (its history). Every
refusal of an alarm that asked is reported with the alarm's link.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from opskit.actions import Action, Executor, Status, error_code
from opskit.instance_store import has_instance_store, refusal
from opskit.observability import logger
from opskit.runner import TargetRun
from opskit.tags import TRUE_VALUES, tags_to_dict
from self_healing.alarm import AlarmChange, Subject
from self_healing.restart import Restart, Restarter, StopStartError
from self_healing.settings import REMEDIES, HealConfig

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient

SYSTEM_CHECK = "StatusCheckFailed_System"
# What an alarm's own tag may narrow a granted action to: the same, or gentler.
GENTLER = {"stop-start": ("reboot", "report"), "reboot": ("report",), "replace": ("report",),
           "redeploy": ("report",), "report": ()}
# An alarm naming several targets is refused; this many are read to see whether one opted in
# (and so whether the refusal is reported): a metric math alarm has at most 10 metrics.
MAX_TARGETS_READ = 10


@dataclass(frozen=True, slots=True)
class Instance:
    state: str
    root_device: str
    lifecycle: str  # on-demand, spot, capacity-block...
    instance_type: str


@dataclass(frozen=True, slots=True)
class Group:
    """The Auto Scaling group of an instance, and the instance's standing in it."""

    name: str
    lifecycle_state: str  # InService, Standby, Pending, Terminating...
    protected_from_scale_in: bool
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # ec2:instance, autoscaling:instance, ecs:service, lambda:function
    resource: str
    tags: Mapping[str, str] = field(default_factory=dict)
    instance: Instance | None = None
    group: Group | None = None
    cluster: str = ""
    service: str = ""

    @property
    def details(self) -> dict[str, Any]:
        """What the report shows about the target."""
        shown: dict[str, Any] = {}
        if self.instance is not None:
            shown = {"state": self.instance.state, "root_device": self.instance.root_device,
                     "lifecycle": self.instance.lifecycle,
                     "instance_type": self.instance.instance_type}
        if self.group is not None:
            shown.update(group=self.group.name, group_state=self.group.lifecycle_state,
                         protected_from_scale_in=self.group.protected_from_scale_in)
        if self.kind == "ecs:service":
            shown = {"cluster": self.cluster, "service": self.service}
        return shown


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


def one_subject(alarm: AlarmChange) -> Subject | str:
    """The one target the alarm's metrics name, or why there is not exactly one."""
    subjects = alarm.subjects
    if alarm.queries:
        return (f"the alarm's expression {', '.join(alarm.queries)} searches metrics: the "
                "targets it reads are not listed (alarm on one target's metrics instead)")
    if len(subjects) > 1:
        return (f"the alarm's metrics name {len(subjects)} targets "
                f"({'; '.join(str(s) for s in subjects)}): it heals one target per alarm")
    if not subjects:
        return "no target this automation can heal in the alarm's dimensions (none)"
    return subjects[0]


def find_target(clients: Clients, subject: Subject) -> Target | str:
    """The target the subject names, read, or why there is none."""
    if subject.kind == "instance":
        return _instance(clients, subject.get("InstanceId"))
    if subject.kind == "service":
        cluster, name = subject.get("ClusterName"), subject.get("ServiceName")
        try:
            services = clients.ecs.describe_services(
                cluster=cluster, services=[name], include=["TAGS"]).get("services", [])
        except ClientError as exc:
            if error_code(exc) != "ClusterNotFoundException":
                raise
            services = []
        if not services or services[0].get("status") != "ACTIVE":
            return f"ECS service {name} is not active in {cluster}"
        service = services[0]
        tags = {t["key"]: t["value"] for t in service.get("tags", [])}
        return Target("ecs:service", service["serviceArn"], tags, cluster=cluster, service=name)
    if subject.kind == "function":
        return Target("lambda:function", subject.get("FunctionName"))
    if subject.kind == "group":
        return (f"the alarm watches group {subject.get('AutoScalingGroupName')} as a whole: no "
                "instance to replace (alarm on an instance's metrics instead)")
    return f"no target this automation can heal in the alarm's dimensions ({subject})"


def _instance(clients: Clients, instance_id: str) -> Target | str:
    try:
        reservations = clients.ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    except ClientError as exc:
        if error_code(exc) in {"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"}:
            return f"instance {instance_id} no longer exists"
        raise
    instances = [i for r in reservations for i in r.get("Instances", [])]
    if not instances:
        return f"instance {instance_id} no longer exists"
    found = instances[0]
    instance = Instance(state=found["State"]["Name"],
                        root_device=found.get("RootDeviceType", "ebs"),
                        lifecycle=found.get("InstanceLifecycle", "on-demand"),
                        instance_type=found.get("InstanceType", ""))
    tags = tags_to_dict(found.get("Tags"))
    members = clients.autoscaling.describe_auto_scaling_instances(
        InstanceIds=[instance_id]).get("AutoScalingInstances", [])
    if not members:
        return Target("ec2:instance", instance_id, tags, instance)
    member = members[0]
    name = member["AutoScalingGroupName"]
    groups = clients.autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[name]).get("AutoScalingGroups", [])
    group_tags = tags_to_dict(groups[0].get("Tags")) if groups else {}
    return Target("autoscaling:instance", instance_id, tags, instance,
                  Group(name, member.get("LifecycleState", ""),
                        bool(member.get("ProtectedFromScaleIn")), group_tags))


def choose(remedy: str, target: Target, alarm: AlarmChange) -> str | None:
    """The action for this target kind, or None when the remedy does not fit it."""
    if target.kind == "lambda:function" or remedy == "report":
        return "report"
    if target.kind == "ecs:service":
        return "redeploy" if remedy in {"auto", "redeploy"} else None
    if target.kind == "autoscaling:instance":
        return "replace" if remedy in {"auto", "replace"} else None
    if remedy == "auto":  # a host failure, and nothing else, moves the instance
        system = bool(alarm.metrics) and all(m.name == SYSTEM_CHECK for m in alarm.metrics)
        return "stop-start" if system else "reboot"
    return remedy if remedy in {"reboot", "stop-start"} else None


@dataclass(frozen=True, slots=True)
class Decision:
    """The action to take, or the one refused (`heal` when there is none) and why."""

    action: str
    refusal: str | None = None


def decide(target: Target, alarm: AlarmChange, key: str, *, own: str | None,
           mapped: str | None, requested: str | None) -> Decision:
    """The action the target's own tag (or else a mapping) grants, narrowed by the alarm's tag,
    which may ask for the same or a gentler action, never grant one."""
    grant = own.strip().lower() if own is not None else mapped
    if grant is None:
        how = ("map the alarm (HEAL_MAPPINGS): a function's tags are not read"
               if target.kind == "lambda:function"
               else f"tag the target {target.resource} with {key}, or map the alarm "
                    "(HEAL_MAPPINGS)")
        what = ("not opted in" if requested is None
                else f"the alarm's tag {key}={requested!r} does not opt in")
        return Decision("heal", f"{what}: {how}")
    if grant not in REMEDIES:
        return Decision("heal", f"tag {key}={own!r} is invalid: expected one of "
                                f"{', '.join(REMEDIES)}")
    action = choose(grant, target, alarm)
    if action is None:
        return Decision(grant, f"remedy {grant!r} does not apply to {target.kind} targets")
    wish = (requested or "auto").strip().lower()
    if wish == "auto":  # the alarm asks for nothing in particular
        return Decision(action)
    if wish not in REMEDIES:
        return Decision(action, f"the alarm's tag {key}={requested!r} is invalid: expected one "
                                f"of {', '.join(REMEDIES)}")
    narrowed = choose(wish, target, alarm)
    if narrowed is None:
        return Decision(action, f"the alarm's tag {key}={wish!r} does not apply to "
                                f"{target.kind} targets")
    if narrowed != action and narrowed not in GENTLER[action]:
        source = f"the target's tag {key}" if own is not None else "HEAL_MAPPINGS"
        return Decision(action, f"the alarm's tag {key}={wish!r} asks for more than {source} "
                                f"grants ({action}): an alarm may only ask for a gentler action")
    return Decision(narrowed)


def stop_start_refusal(ec2: EC2Client, target: Target) -> str | None:
    """Why a stop/start would lose what the instance holds, or None."""
    instance = target.instance
    if instance is None:
        return None
    if instance.root_device != "ebs":
        return f"stop/start would lose the instance-store root device of {target.resource}"
    if instance.lifecycle == "spot":
        return f"stop/start would lose spot instance {target.resource}"
    known = has_instance_store(ec2, [instance.instance_type])
    return refusal(instance.instance_type, known, target.tags)


def replace_refusal(target: Target, stateful_tag_key: str) -> str | None:
    """Why the group must not replace this instance, or None."""
    group = target.group
    if group is None:
        return None
    if group.lifecycle_state != "InService":
        return (f"the instance is {group.lifecycle_state or 'not InService'} in group "
                f"{group.name}: only an InService instance is replaced")
    if group.protected_from_scale_in:
        return (f"the instance is protected from scale-in in group {group.name}: it is not "
                "replaced")
    for owner, tags in (("group", group.tags), ("instance", target.tags)):
        value = tags.get(stateful_tag_key)
        if value is not None and value.strip().lower() in TRUE_VALUES:
            return (f"the {owner} is tagged {stateful_tag_key}={value}: group {group.name} "
                    "holds state, its instances are not replaced")
    return None


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


def heal(clients: Clients, alarm: AlarmChange, executor: Executor, config: HealConfig, *,
         guards: Guards, restarter: Restarter) -> TargetRun:
    base = {"alarm": alarm.name, "alarm_link": alarm.link, "state_reason": alarm.reason}
    if alarm.state != "ALARM":
        return TargetRun(title=f"{alarm.name} is {alarm.state}: nothing to heal", extra=base)
    key = config.heal_tag_key
    requested = alarm_tags(clients, alarm).get(key)  # a request: it narrows, never grants
    mapped = config.mapped(alarm.name)
    asked = requested is not None or mapped is not None  # the target's own tag, once read

    def refuse(why: str, target: Target | None = None, planned: str | None = None,
               extra: Mapping[str, Any] | None = None) -> TargetRun:
        if not asked:  # nothing asked for healing: logged, not reported
            return TargetRun(title=f"{alarm.name} has not opted in to healing",
                             extra={**base, "why": why})
        if target is not None:
            executor.skip(Action(target.resource, target.kind, planned or "heal", alarm.name,
                                 {**base, **target.details}), why)
        return TargetRun(title=f"No healing for {alarm.name}: {why}", severity="warning",
                         extra={**base, **(extra or {}), "notes": [why]})

    subject = one_subject(alarm)
    if isinstance(subject, str):
        named = alarm.subjects
        if not asked and len(named) > 1:  # reported if one of the targets opted in
            read = [find_target(clients, s) for s in named[:MAX_TARGETS_READ]]
            asked = any(isinstance(t, Target) and key in t.tags for t in read)
        return refuse(subject, extra={"targets": [str(s) for s in named]}
                      if len(named) > 1 else None)
    found = find_target(clients, subject)
    if isinstance(found, str):
        return refuse(found)
    own = found.tags.get(key)
    asked = asked or own is not None
    decision = decide(found, alarm, key, own=own, mapped=mapped, requested=requested)
    if decision.refusal is not None:
        return refuse(decision.refusal, found, decision.action)
    action = decision.action
    if found.instance is not None and found.instance.state != "running":
        return refuse(f"the instance is {found.instance.state}: nothing to restart", found,
                      action)
    exempt = executor.exemption(found.tags)
    if exempt is not None:
        return refuse(exempt, found, action)
    if action == "report":
        executor.run([Action(found.resource, found.kind, "report", alarm.reason,
                             {**base, **found.details})], lambda _: None)
        return TargetRun(title=f"{alarm.name}: {found.kind} {found.resource} is unhealthy "
                               "(nothing to restart: reported)", severity="warning", extra=base)
    why = (stop_start_refusal(clients.ec2, found) if action == "stop-start"
           else replace_refusal(found, config.stateful_tag_key) if action == "replace"
           else None)
    why = why or guards.cooling(found)
    if why is None and guards.heals_last_hour() >= config.max_actions_per_hour:
        why = f"limit: {config.max_actions_per_hour} heals already in the last hour"
    if why is None and guards.history(alarm) >= config.flap_threshold:
        why = (f"flapping: {config.flap_threshold} or more changes to ALARM in the last hour; "
               "a person should look")
    if why is not None:
        return refuse(why, found, action)
    restarts: list[Restart] = []
    apply = _applier(clients, found, action, config, now=guards.now, restarter=restarter,
                     restarts=restarts)
    (outcome,) = executor.run([Action(found.resource, found.kind, action,
                                      f"{alarm.name}: {alarm.reason}", {**base, **found.details},
                                      found.tags)], apply)
    extra = {**base, **({"stop_start": restarts[0].to_dict()} if restarts else {})}
    if outcome.status == Status.FAILED:
        return TargetRun(title=f"Could not {action} {found.resource} ({alarm.name})",
                         severity="critical", extra={**extra, "notes": [outcome.note]})
    verb = "Would" if executor.dry_run else "Did"
    return TargetRun(title=f"{verb} {action} {found.resource} ({alarm.name})",
                     severity="warning", extra=extra)


def _applier(clients: Clients, target: Target, action: str, config: HealConfig, *,
             now: datetime, restarter: Restarter,
             restarts: list[Restart]) -> Callable[[Sequence[Action]], None]:
    value = now.isoformat(timespec="seconds")

    def stamp() -> None:
        if target.kind == "ecs:service":
            clients.ecs.tag_resource(resourceArn=target.resource, tags=[
                {"key": config.healed_tag_key, "value": value}])
        else:
            clients.ec2.create_tags(Resources=[target.resource],
                                    Tags=[{"Key": config.healed_tag_key, "Value": value}])

    def apply(_: Sequence[Action]) -> None:
        if target.kind == "ecs:service":
            clients.ecs.update_service(cluster=target.cluster, service=target.service,
                                       forceNewDeployment=True)
        elif action == "replace":
            clients.autoscaling.set_instance_health(InstanceId=target.resource,
                                                    HealthStatus="Unhealthy",
                                                    ShouldRespectGracePeriod=True)
        elif action == "reboot":
            clients.ec2.reboot_instances(InstanceIds=[target.resource])
        else:  # stop-start: a new host for a failed system status check
            restart = restarter.stop_start(target.resource)
            restarts.append(restart)
            try:  # the instance was stopped: the cooldown starts, whatever came of it
                stamp()
            except (ClientError, BotoCoreError):
                if restart.problem is None:
                    raise
                logger.exception("stamp not written", extra={"instance_id": target.resource})
            if restart.problem is not None:
                raise StopStartError(problem=restart.problem)
            return
        stamp()

    return apply
