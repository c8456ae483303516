"""The calls that change state, one `Apply` per (resource type, action), for the executor.

Each start or stop writes the last-action tag (last_action.py) once the change is made, never
before: a change that failed must still be due at the next run.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from instance_scheduler.inventory import (
    ASG,
    EC2_INSTANCE,
    ECS_SERVICE,
    RDS_CLUSTER,
    RDS_INSTANCE,
    REDSHIFT_CLUSTER,
    SUSPENDED_PROCESSES,
    Group,
    Service,
    format_capacity,
)
from instance_scheduler.last_action import Verb, last_action
from instance_scheduler.planner import (
    HIBERNATE,
    RECORD_RUNNING,
    RECORD_STARTED_EARLY,
    RECORD_STOPPED,
    REMOVE_OVERRIDE,
    RESIZE,
    START,
    STOP,
    Target,
)
from instance_scheduler.settings import AsgStopMode, SchedulerConfig
from opskit.actions import Action, Apply, chunks, error_code, resources
from opskit.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_autoscaling.type_defs import TagTypeDef as GroupTagTypeDef

    from instance_scheduler.clients import TargetClients

# StartInstances/StopInstances/CreateTags take many ids; 50 keeps a failing batch cheap to bisect.
EC2_BATCH_SIZE = 50
# CreateOrUpdateTags takes the tags of many groups in one call.
ASG_TAG_BATCH_SIZE = 50
_EC2_GONE = frozenset({"InvalidInstanceID.NotFound"})
_DB_GONE = frozenset({"DBInstanceNotFound", "DBInstanceNotFoundFault"})
_CLUSTER_GONE = frozenset({"DBClusterNotFoundFault"})
_REDSHIFT_GONE = frozenset({"ClusterNotFound", "ClusterNotFoundFault"})
_SERVICE_GONE = frozenset({"ServiceNotFoundException", "ServiceNotActiveException",
                           "ClusterNotFoundException"})
# The records: the last-action tag alone, for a resource found in the wanted state.
_RECORD_VERBS = {RECORD_RUNNING: Verb.FOUND_RUNNING, RECORD_STOPPED: Verb.FOUND_STOPPED,
                 RECORD_STARTED_EARLY: Verb.FOUND_STARTED_EARLY}
# What the suspended-processes tag holds when every process was already suspended by someone.
NO_PROCESSES = "none"


# StopInstances' answers when an instance cannot be hibernated (not configured for it, or a state
# or type that does not allow it): the instance is then stopped.
HIBERNATION_REFUSED = frozenset({"UnsupportedHibernationConfiguration", "UnsupportedOperation"})


@dataclass(frozen=True, slots=True)
class Actuator:
    apply: Apply
    batch_size: int = 1
    idempotent_errors: Collection[str] = ()


class Actuators:
    """Builds the Apply functions of one target from its clients."""

    def __init__(self, clients: TargetClients, config: SchedulerConfig, now: datetime,
                 groups: Mapping[str, Group],
                 services: Mapping[str, Service] | None = None) -> None:
        self.clients = clients
        self.config = config
        self.now = now
        self.groups = groups
        self.services = services or {}

    def for_action(self, kind: str, name: str) -> Actuator:
        if name in _RECORD_VERBS:  # only the last-action tag, written as each kind writes it
            mark, batch_size, gone = {
                EC2_INSTANCE: (self._ec2_mark, EC2_BATCH_SIZE, _EC2_GONE),
                ASG: (self._asg_mark, ASG_TAG_BATCH_SIZE, ()),
                RDS_INSTANCE: (self._rds_mark, 1, _DB_GONE),
                RDS_CLUSTER: (self._rds_mark, 1, _CLUSTER_GONE),
                REDSHIFT_CLUSTER: (self._redshift_mark, 1, _REDSHIFT_GONE),
                ECS_SERVICE: (self._ecs_mark, 1, _SERVICE_GONE),
            }[kind]
            return Actuator(partial(mark, verb=_RECORD_VERBS[name]), batch_size, gone)
        table = {
            (EC2_INSTANCE, RESIZE): Actuator(self._ec2_resize, idempotent_errors=_EC2_GONE),
            (EC2_INSTANCE, START): Actuator(self._ec2_start, EC2_BATCH_SIZE, _EC2_GONE),
            (EC2_INSTANCE, STOP): Actuator(self._ec2_stop, EC2_BATCH_SIZE, _EC2_GONE),
            (EC2_INSTANCE, HIBERNATE): Actuator(self._ec2_hibernate, EC2_BATCH_SIZE, _EC2_GONE),
            (EC2_INSTANCE, REMOVE_OVERRIDE): Actuator(self._ec2_untag, EC2_BATCH_SIZE),
            (ASG, START): Actuator(self._asg_start),
            (ASG, STOP): Actuator(self._asg_stop),
            (ASG, REMOVE_OVERRIDE): Actuator(self._asg_untag),
            (RDS_INSTANCE, START): Actuator(self._db_start, idempotent_errors=_DB_GONE),
            (RDS_INSTANCE, STOP): Actuator(self._db_stop, idempotent_errors=_DB_GONE),
            (RDS_INSTANCE, REMOVE_OVERRIDE): Actuator(self._rds_untag),
            (RDS_CLUSTER, START): Actuator(self._cluster_start, idempotent_errors=_CLUSTER_GONE),
            (RDS_CLUSTER, STOP): Actuator(self._cluster_stop, idempotent_errors=_CLUSTER_GONE),
            (RDS_CLUSTER, REMOVE_OVERRIDE): Actuator(self._rds_untag),
            (REDSHIFT_CLUSTER, START): Actuator(self._redshift_resume,
                                                idempotent_errors=_REDSHIFT_GONE),
            (REDSHIFT_CLUSTER, STOP): Actuator(self._redshift_pause,
                                               idempotent_errors=_REDSHIFT_GONE),
            (REDSHIFT_CLUSTER, REMOVE_OVERRIDE): Actuator(self._redshift_untag),
            (ECS_SERVICE, START): Actuator(self._ecs_start, idempotent_errors=_SERVICE_GONE),
            (ECS_SERVICE, STOP): Actuator(self._ecs_stop, idempotent_errors=_SERVICE_GONE),
            (ECS_SERVICE, REMOVE_OVERRIDE): Actuator(self._ecs_untag),
        }
        return table[(kind, name)]

    def _last(self, verb: Verb) -> str:
        return last_action(verb, self.now).value()

    # EC2: one call per batch of ids, then one to record it.
    def _ec2_start(self, batch: Sequence[Action]) -> None:
        """Start; a resized instance EC2 cannot start with its new type (no capacity for it,
        say) goes back to its own type and is started with it. EC2 refuses a whole batch for
        one instance: the executor splits the batch, so only that one goes back."""
        try:
            self.clients.ec2.start_instances(InstanceIds=resources(batch))
        except ClientError as exc:
            types = batch[0].params_as(Target)
            if len(batch) > 1 or not types.previous_type or error_code(exc) in _EC2_GONE:
                raise
            logger.warning("could not start with the period's instance type: started with its "
                           "own", extra={"instance": batch[0].resource, "error": error_code(exc),
                                         "instance_type": types.previous_type})
            self.clients.ec2.modify_instance_attribute(
                InstanceId=batch[0].resource, InstanceType={"Value": types.previous_type})
            self.clients.ec2.start_instances(InstanceIds=resources(batch))
        self._ec2_mark(batch, Verb.STARTED)

    def _ec2_resize(self, batch: Sequence[Action]) -> None:
        """The period's instance type, set while the instance is stopped, before its start (one
        call each: the API takes one instance). A refusal fails this action only: the start
        that follows uses the instance's own type."""
        (action,) = batch
        self.clients.ec2.modify_instance_attribute(
            InstanceId=action.resource,
            InstanceType={"Value": action.params_as(Target).instance_type})

    def _ec2_stop(self, batch: Sequence[Action]) -> None:
        self.clients.ec2.stop_instances(InstanceIds=resources(batch))
        self._ec2_mark(batch, Verb.STOPPED)

    def _ec2_hibernate(self, batch: Sequence[Action]) -> None:
        """Hibernate; an instance EC2 refuses to hibernate (its hibernation no longer
        configured, or not supported now) is stopped instead: a plain stop still saves the
        money. EC2 refuses a whole batch for one such instance: the error goes back to the
        executor, which splits the batch, so only the refusing instance is stopped plainly.
        EC2 itself shuts down normally one that fails to hibernate once asked."""
        try:
            self.clients.ec2.stop_instances(InstanceIds=resources(batch), Hibernate=True)
        except ClientError as exc:
            if error_code(exc) not in HIBERNATION_REFUSED or len(batch) > 1:
                raise
            logger.warning("hibernation refused: stopped instead",
                           extra={"instances": resources(batch), "error": error_code(exc)})
            self.clients.ec2.stop_instances(InstanceIds=resources(batch))
        self._ec2_mark(batch, Verb.STOPPED)

    def _ec2_mark(self, batch: Sequence[Action], verb: Verb) -> None:
        self.clients.ec2.create_tags(Resources=resources(batch), Tags=[
            {"Key": self.config.last_action_tag_key, "Value": self._last(verb)}])

    def _ec2_untag(self, batch: Sequence[Action]) -> None:
        self.clients.ec2.delete_tags(Resources=resources(batch),
                                     Tags=[{"Key": batch[0].params_as(Target).tag_key}])

    # Auto Scaling: what is needed to undo a stop is tagged before the stop, and never
    # overwritten while the group stays stopped.
    @staticmethod
    def _group_tag(group: str, key: str, value: str) -> GroupTagTypeDef:
        return {"ResourceId": group, "ResourceType": "auto-scaling-group", "Key": key,
                "Value": value, "PropagateAtLaunch": False}

    def _asg_stop(self, batch: Sequence[Action]) -> None:
        (action,) = batch
        group = self.groups[action.resource]
        autoscaling = self.clients.autoscaling
        if self.config.asg_stop_mode is AsgStopMode.SUSPEND:
            key = self.config.suspended_processes_tag_key
            if key not in action.tags:
                ours = sorted(set(SUSPENDED_PROCESSES) - group.suspended)
                autoscaling.create_or_update_tags(Tags=[self._group_tag(
                    action.resource, key, "+".join(ours) or NO_PROCESSES)])
            autoscaling.suspend_processes(AutoScalingGroupName=action.resource,
                                          ScalingProcesses=list(SUSPENDED_PROCESSES))
            up = [m.id for m in group.members_in("running")]
            for ids in chunks(up, EC2_BATCH_SIZE):
                self.clients.ec2.stop_instances(InstanceIds=list(ids))
        else:
            key = self.config.saved_capacity_tag_key
            # A size saved earlier in this stop window is the one to come back to.
            if key not in action.tags or action.params_as(Target).refresh_saved:
                autoscaling.create_or_update_tags(Tags=[self._group_tag(
                    action.resource, key, format_capacity(group.capacity))])
            autoscaling.update_auto_scaling_group(
                AutoScalingGroupName=action.resource, MinSize=0, MaxSize=0, DesiredCapacity=0)
        self._asg_mark(batch, Verb.STOPPED)

    def _asg_start(self, batch: Sequence[Action]) -> None:
        (action,) = batch
        group = self.groups[action.resource]
        autoscaling = self.clients.autoscaling
        down = [m.id for m in group.members_in("stopped")]
        for ids in chunks(down, EC2_BATCH_SIZE):
            self.clients.ec2.start_instances(InstanceIds=list(ids))
        suspended_key = self.config.suspended_processes_tag_key
        if group.suspended_by_us is not None:
            ours = [p for p in group.suspended_by_us.split("+") if p in SUSPENDED_PROCESSES]
            if ours:
                autoscaling.resume_processes(AutoScalingGroupName=action.resource,
                                             ScalingProcesses=ours)
        saved = group.saved_capacity
        if saved is not None:
            low, high, desired = saved
            autoscaling.update_auto_scaling_group(
                AutoScalingGroupName=action.resource, MinSize=low, MaxSize=high,
                DesiredCapacity=desired)
        # Recorded before the saved tags go: if their removal fails, the next run sees the start
        # done (and a later stop saves the size again) rather than starting the group again.
        self._asg_mark(batch, Verb.STARTED)
        done = [key for key, value in ((self.config.saved_capacity_tag_key, group.saved),
                                       (suspended_key, group.suspended_by_us))
                if value is not None]
        if done:
            autoscaling.delete_tags(Tags=[{
                "ResourceId": action.resource, "ResourceType": "auto-scaling-group",
                "Key": key} for key in done])

    def _asg_mark(self, batch: Sequence[Action], verb: Verb) -> None:
        value = self._last(verb)
        self.clients.autoscaling.create_or_update_tags(Tags=[
            self._group_tag(action.resource, self.config.last_action_tag_key, value)
            for action in batch])

    def _asg_untag(self, batch: Sequence[Action]) -> None:
        (action,) = batch
        self.clients.autoscaling.delete_tags(Tags=[{
            "ResourceId": action.resource, "ResourceType": "auto-scaling-group",
            "Key": action.params_as(Target).tag_key}])

    # RDS: one resource per call (the API has no batch form).
    def _db_start(self, batch: Sequence[Action]) -> None:
        self.clients.rds.start_db_instance(DBInstanceIdentifier=batch[0].resource)
        self._rds_mark(batch, Verb.STARTED)

    def _db_stop(self, batch: Sequence[Action]) -> None:
        if not self.config.rds_snapshot_on_stop:
            self.clients.rds.stop_db_instance(DBInstanceIdentifier=batch[0].resource)
            self._rds_mark(batch, Verb.STOPPED)
            return
        # Imported when used: most stacks take no stop snapshot (cold start, docs/opskit.md).
        from instance_scheduler.stop_snapshots import prune, stop_snapshot  # noqa: PLC0415

        action = batch[0]
        db_arn = action.params_as(Target).arn
        snapshot = stop_snapshot(db_arn, self.now)
        self.clients.rds.stop_db_instance(DBInstanceIdentifier=action.resource,
                                          DBSnapshotIdentifier=snapshot.identifier)
        # Tagged first: whatever fails next, the snapshot carries its owner, so retention
        # counts it. One left untagged is never deleted by opskit.
        try:
            self.clients.rds.add_tags_to_resource(ResourceName=snapshot.arn, Tags=[
                {"Key": key, "Value": value} for key, value in snapshot.tags.items()])
        except ClientError as exc:
            logger.warning("stop snapshot taken but not tagged: opskit will never delete it",
                           extra={"snapshot": snapshot.identifier, "error": error_code(exc)})
        self._rds_mark(batch, Verb.STOPPED)
        try:
            deleted = prune(self.clients.rds, action.resource, db_arn,
                            self.config.rds_stop_snapshots_kept, self.now)
        except ClientError as exc:
            logger.warning("older stop snapshots not pruned: the next stop tries again",
                           extra={"snapshot": snapshot.identifier, "error": error_code(exc)})
            return
        logger.info("stop snapshot taken", extra={"snapshot": snapshot.identifier,
                                                  "deleted_older": deleted})

    def _cluster_start(self, batch: Sequence[Action]) -> None:
        self.clients.rds.start_db_cluster(DBClusterIdentifier=batch[0].resource)
        self._rds_mark(batch, Verb.STARTED)

    def _cluster_stop(self, batch: Sequence[Action]) -> None:
        self.clients.rds.stop_db_cluster(DBClusterIdentifier=batch[0].resource)
        self._rds_mark(batch, Verb.STOPPED)

    def _rds_mark(self, batch: Sequence[Action], verb: Verb) -> None:
        self.clients.rds.add_tags_to_resource(ResourceName=batch[0].params_as(Target).arn, Tags=[
            {"Key": self.config.last_action_tag_key, "Value": self._last(verb)}])

    def _rds_untag(self, batch: Sequence[Action]) -> None:
        target = batch[0].params_as(Target)
        self.clients.rds.remove_tags_from_resource(ResourceName=target.arn,
                                                   TagKeys=[target.tag_key])

    # Redshift: pause and resume, one cluster per call; tags by ARN.
    def _redshift_pause(self, batch: Sequence[Action]) -> None:
        self.clients.redshift.pause_cluster(ClusterIdentifier=batch[0].resource)
        self._redshift_mark(batch, Verb.STOPPED)

    def _redshift_resume(self, batch: Sequence[Action]) -> None:
        self.clients.redshift.resume_cluster(ClusterIdentifier=batch[0].resource)
        self._redshift_mark(batch, Verb.STARTED)

    def _redshift_mark(self, batch: Sequence[Action], verb: Verb) -> None:
        self.clients.redshift.create_tags(ResourceName=batch[0].params_as(Target).arn, Tags=[
            {"Key": self.config.last_action_tag_key, "Value": self._last(verb)}])

    def _redshift_untag(self, batch: Sequence[Action]) -> None:
        target = batch[0].params_as(Target)
        self.clients.redshift.delete_tags(ResourceName=target.arn, TagKeys=[target.tag_key])

    # ECS: the desired count is tagged before the stop and never overwritten while the service
    # stays stopped; the start restores it, then removes the tag.
    def _ecs_stop(self, batch: Sequence[Action]) -> None:
        (action,) = batch
        service = self.services[action.resource]
        arn = action.params_as(Target).arn
        key = self.config.saved_capacity_tag_key
        if key not in action.tags or action.params_as(Target).refresh_saved:
            self.clients.ecs.tag_resource(resourceArn=arn, tags=[
                {"key": key, "value": str(service.desired)}])
        self.clients.ecs.update_service(cluster=service.cluster, service=service.name,
                                        desiredCount=0)
        self._ecs_mark(batch, Verb.STOPPED)

    def _ecs_start(self, batch: Sequence[Action]) -> None:
        (action,) = batch
        service = self.services[action.resource]
        count = service.saved_count
        if count is not None:  # the planner refuses a stopped service without a saved count
            self.clients.ecs.update_service(cluster=service.cluster, service=service.name,
                                            desiredCount=count)
        # Recorded before the saved count goes: if its removal fails, the next run sees the
        # start done (and a later stop saves the count again) rather than starting it again.
        self._ecs_mark(batch, Verb.STARTED)
        if service.saved is not None:
            self.clients.ecs.untag_resource(resourceArn=action.params_as(Target).arn,
                                            tagKeys=[self.config.saved_capacity_tag_key])

    def _ecs_mark(self, batch: Sequence[Action], verb: Verb) -> None:
        self.clients.ecs.tag_resource(resourceArn=batch[0].params_as(Target).arn, tags=[
            {"key": self.config.last_action_tag_key, "value": self._last(verb)}])

    def _ecs_untag(self, batch: Sequence[Action]) -> None:
        target = batch[0].params_as(Target)
        self.clients.ecs.untag_resource(resourceArn=target.arn, tagKeys=[target.tag_key])
