"""The calls that change state, one `Apply` per (resource type, action), for the executor."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from instance_scheduler.inventory import (
    ASG,
    EC2_INSTANCE,
    RDS_CLUSTER,
    RDS_INSTANCE,
    parse_capacity,
)
from instance_scheduler.planner import HIBERNATE, REMOVE_OVERRIDE, START, STOP
from opskit.actions import Action, Apply, resources

if TYPE_CHECKING:
    from instance_scheduler.clients import TargetClients

# StartInstances/StopInstances take many ids; 50 keeps a failing batch cheap to bisect.
EC2_BATCH_SIZE = 50


@dataclass(frozen=True, slots=True)
class Actuator:
    apply: Apply
    batch_size: int = 1
    idempotent_errors: Collection[str] = ()


def _saved_capacity(action: Action, saved_tag_key: str) -> tuple[int, int, int]:
    capacity = parse_capacity(action.tags.get(saved_tag_key, ""))
    if capacity is None:  # the planner skips such groups; this guards a concurrent edit
        raise ValueError(f"{saved_tag_key}={action.tags.get(saved_tag_key)!r} is not "
                         "min/max/desired")
    return capacity


class Actuators:
    """Builds the Apply functions of one target from its clients."""

    def __init__(self, clients: TargetClients, saved_tag_key: str) -> None:
        self.clients = clients
        self.saved_tag_key = saved_tag_key

    def for_action(self, kind: str, name: str) -> Actuator:
        table = {
            (EC2_INSTANCE, START): Actuator(self._ec2_start, EC2_BATCH_SIZE,
                                            {"InvalidInstanceID.NotFound"}),
            (EC2_INSTANCE, STOP): Actuator(self._ec2_stop, EC2_BATCH_SIZE,
                                           {"InvalidInstanceID.NotFound"}),
            (EC2_INSTANCE, HIBERNATE): Actuator(self._ec2_hibernate, EC2_BATCH_SIZE,
                                                {"InvalidInstanceID.NotFound"}),
            (EC2_INSTANCE, REMOVE_OVERRIDE): Actuator(self._ec2_untag, EC2_BATCH_SIZE),
            (ASG, START): Actuator(self._asg_start),
            (ASG, STOP): Actuator(self._asg_stop),
            (ASG, REMOVE_OVERRIDE): Actuator(self._asg_untag),
            (RDS_INSTANCE, START): Actuator(self._db_start, idempotent_errors={
                "DBInstanceNotFound", "DBInstanceNotFoundFault"}),
            (RDS_INSTANCE, STOP): Actuator(self._db_stop, idempotent_errors={
                "DBInstanceNotFound", "DBInstanceNotFoundFault"}),
            (RDS_INSTANCE, REMOVE_OVERRIDE): Actuator(self._rds_untag),
            (RDS_CLUSTER, START): Actuator(self._cluster_start, idempotent_errors={
                "DBClusterNotFoundFault"}),
            (RDS_CLUSTER, STOP): Actuator(self._cluster_stop, idempotent_errors={
                "DBClusterNotFoundFault"}),
            (RDS_CLUSTER, REMOVE_OVERRIDE): Actuator(self._rds_untag),
        }
        return table[(kind, name)]

    # EC2: one call per batch of ids.
    def _ec2_start(self, batch: Sequence[Action]) -> None:
        self.clients.ec2.start_instances(InstanceIds=resources(batch))

    def _ec2_stop(self, batch: Sequence[Action]) -> None:
        self.clients.ec2.stop_instances(InstanceIds=resources(batch))

    def _ec2_hibernate(self, batch: Sequence[Action]) -> None:
        self.clients.ec2.stop_instances(InstanceIds=resources(batch), Hibernate=True)

    def _ec2_untag(self, batch: Sequence[Action]) -> None:
        self.clients.ec2.delete_tags(Resources=resources(batch),
                             Tags=[{"Key": batch[0].details["tag_key"]}])

    # Auto Scaling: save the capacity in a tag first, so a failure in between loses nothing.
    def _asg_stop(self, batch: Sequence[Action]) -> None:
        (action,) = batch
        self.clients.autoscaling.create_or_update_tags(Tags=[{
            "ResourceId": action.resource, "ResourceType": "auto-scaling-group",
            "Key": self.saved_tag_key, "Value": action.details["capacity"],
            "PropagateAtLaunch": False}])
        self.clients.autoscaling.update_auto_scaling_group(
            AutoScalingGroupName=action.resource, MinSize=0, MaxSize=0, DesiredCapacity=0)

    def _asg_start(self, batch: Sequence[Action]) -> None:
        (action,) = batch
        low, high, desired = _saved_capacity(action, self.saved_tag_key)
        self.clients.autoscaling.update_auto_scaling_group(
            AutoScalingGroupName=action.resource, MinSize=low, MaxSize=high,
            DesiredCapacity=desired)
        self.clients.autoscaling.delete_tags(Tags=[{
            "ResourceId": action.resource, "ResourceType": "auto-scaling-group",
            "Key": self.saved_tag_key}])

    def _asg_untag(self, batch: Sequence[Action]) -> None:
        (action,) = batch
        self.clients.autoscaling.delete_tags(Tags=[{
            "ResourceId": action.resource, "ResourceType": "auto-scaling-group",
            "Key": action.details["tag_key"]}])

    # RDS: one resource per call (the API has no batch form).
    def _db_start(self, batch: Sequence[Action]) -> None:
        self.clients.rds.start_db_instance(DBInstanceIdentifier=batch[0].resource)

    def _db_stop(self, batch: Sequence[Action]) -> None:
        self.clients.rds.stop_db_instance(DBInstanceIdentifier=batch[0].resource)

    def _cluster_start(self, batch: Sequence[Action]) -> None:
        self.clients.rds.start_db_cluster(DBClusterIdentifier=batch[0].resource)

    def _cluster_stop(self, batch: Sequence[Action]) -> None:
        self.clients.rds.stop_db_cluster(DBClusterIdentifier=batch[0].resource)

    def _rds_untag(self, batch: Sequence[Action]) -> None:
        self.clients.rds.remove_tags_from_resource(ResourceName=batch[0].details["arn"],
                                           TagKeys=[batch[0].details["tag_key"]])
