"""Sample scheduled resources in the moto account, shared by tests and the event harness."""

from __future__ import annotations

from collections.abc import Mapping

import boto3

SCHEDULE = "mon-fri 08:00-19:00 UTC"


def image_id() -> str:
    return boto3.client("ec2").describe_images(Owners=["amazon"])["Images"][0]["ImageId"]


def make_instances(count: int, schedule: str | None = SCHEDULE, *, region: str | None = None,
                   session: boto3.Session | None = None,
                   tags: Mapping[str, str] | None = None) -> list[str]:
    """`count` running instances tagged with `schedule` (and `tags`), created in chunks."""
    ec2 = (session or boto3).client("ec2", region_name=region)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    all_tags = {**({"Schedule": schedule} if schedule is not None else {}), **(tags or {})}
    ids: list[str] = []
    while len(ids) < count:
        batch = min(500, count - len(ids))
        response = ec2.run_instances(
            ImageId=image, MinCount=batch, MaxCount=batch, InstanceType="t3.micro",
            TagSpecifications=[{"ResourceType": "instance",
                                "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()]}])
        ids.extend(i["InstanceId"] for i in response["Instances"])
    return ids


def make_encrypted_instance() -> tuple[str, str]:
    """A stopped scheduled instance whose root volume uses a new customer managed key."""
    key = boto3.client("kms").create_key()["KeyMetadata"]["KeyId"]
    ec2 = boto3.client("ec2")
    instance = ec2.run_instances(
        ImageId=image_id(), MinCount=1, MaxCount=1,
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda",
                              "Ebs": {"VolumeSize": 8, "Encrypted": True, "KmsKeyId": key}}],
        TagSpecifications=[{"ResourceType": "instance",
                            "Tags": [{"Key": "Schedule", "Value": SCHEDULE}]}],
    )["Instances"][0]["InstanceId"]
    ec2.stop_instances(InstanceIds=[instance])
    return instance, key


def make_group(name: str, schedule: str = SCHEDULE,
               capacity: tuple[int, int, int] = (1, 4, 2)) -> None:
    autoscaling = boto3.client("autoscaling")
    autoscaling.create_launch_configuration(LaunchConfigurationName=f"{name}-lc",
                                            ImageId=image_id(), InstanceType="t3.micro")
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name, LaunchConfigurationName=f"{name}-lc", MinSize=capacity[0],
        MaxSize=capacity[1], DesiredCapacity=capacity[2], AvailabilityZones=["eu-west-1a"],
        Tags=[{"Key": k, "Value": v, "PropagateAtLaunch": False}
              for k, v in {"Schedule": schedule}.items()])


def make_db(name: str, schedule: str | None = SCHEDULE, **kwargs: str) -> str:
    tags = [{"Key": "Schedule", "Value": schedule}] if schedule else []
    response = boto3.client("rds").create_db_instance(
        DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres",
        MasterUsername="admin_user", MasterUserPassword="not-a-secret-1", AllocatedStorage=20,
        Tags=tags, **kwargs)  # type: ignore[arg-type]
    return response["DBInstance"]["DBInstanceArn"]


def make_cluster(name: str, schedule: str = SCHEDULE, members: int = 1) -> None:
    rds = boto3.client("rds")
    rds.create_db_cluster(DBClusterIdentifier=name, Engine="aurora-postgresql",
                          MasterUsername="admin_user", MasterUserPassword="not-a-secret-1",
                          Tags=[{"Key": "Schedule", "Value": schedule}])
    for index in range(members):
        rds.create_db_instance(DBInstanceIdentifier=f"{name}-{index}", DBClusterIdentifier=name,
                               DBInstanceClass="db.r6g.large", Engine="aurora-postgresql",
                               Tags=[{"Key": "Schedule", "Value": schedule}])


def seed(event_name: str) -> None:
    """Resources for the sample events: a few of each kind, one exempt, one with a bad tag."""
    make_instances(3)
    make_instances(1, tags={"opskit:exempt": "true"})
    make_instances(1, "mon-fri 8h-19h")
    make_group("web-asg")
    make_db("reporting-db")
    make_cluster("orders-aurora")
