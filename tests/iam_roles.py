"""The functions' roles as template.yaml and member-role.yaml grant them, and the part of IAM's
evaluation the tests apply to recorded calls: actions, and the tag keys a tag write names."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

from opskit.permissions import Permissions, iam_actions
from tools.catalog import catalog
from tools.member_role import MEMBER, load

# What the template's parameters hold by default, where a statement names them.
DEFAULTS = {"${TagPrefix}": "opskit:", "${ExemptionTagKey}": "opskit:exempt"}


def permissions_of(automation: str) -> Permissions:
    declared: Permissions = importlib.import_module(f"{automation}.permissions").PERMISSIONS
    return declared


def prefix_of(automation: str) -> str:
    """InstanceScheduler for instance_scheduler: the template's logical-id prefix."""
    return "".join(part.capitalize() for part in automation.split("_"))


def _statements(policy: list[Any]) -> list[dict[str, Any]]:
    """Each statement; both branches of an `!If` (what a parameter can turn on)."""
    found: list[dict[str, Any]] = []
    for entry in policy:
        if "Fn::If" in entry:
            found += [b for b in entry["Fn::If"][1:] if isinstance(b, dict) and "Effect" in b]
        else:
            found.append(entry)
    return found


def _exemption(resources: dict[str, Any], name: str) -> list[dict[str, Any]]:
    policy = resources.get(name)
    if policy is None:
        return []
    statements: list[dict[str, Any]] = json.loads(
        _value(policy["Properties"]["PolicyDocument"]))["Statement"]
    return statements


@cache
def function_role(automation: str) -> tuple[dict[str, Any], ...]:
    resources = catalog(load)["Resources"]
    function = resources[f"{prefix_of(automation)}Function"]
    return (*(s for policy in function["Properties"]["Policies"]
              for s in _statements(policy["Statement"])),
            *_exemption(resources, f"{prefix_of(automation)}Exemption"))


@cache
def member_role(automation: str) -> tuple[dict[str, Any], ...]:
    resources = load(MEMBER)["Resources"]
    policy = resources[f"{prefix_of(automation)}Policy"]
    return (*_statements(policy["Properties"]["PolicyDocument"]["Statement"]),
            *_exemption(resources, f"{prefix_of(automation)}Exemption"))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(action: str, statement: dict[str, Any]) -> bool:
    return any(fnmatchcase(action.lower(), str(p).lower())
               for p in _listed(statement.get("Action", [])))


def allows(statements: Iterable[dict[str, Any]], action: str) -> bool:
    return any(s["Effect"] == "Allow" and _matches(action, s) for s in statements)


def _value(value: Any) -> str:
    """A condition value, `!Sub` resolved with the parameters' defaults."""
    text = value["Fn::Sub"] if isinstance(value, dict) and "Fn::Sub" in value else str(value)
    for variable, default in DEFAULTS.items():
        text = text.replace(variable, default)
    return text


def _tag_keys_admitted(statement: dict[str, Any], keys: frozenset[str]) -> bool:
    """The statement's aws:TagKeys conditions, evaluated for a request naming `keys`."""
    condition = statement.get("Condition", {})
    for operator, test in condition.items():
        if "aws:TagKeys" not in test:
            continue
        allowed = [_value(v) for v in _listed(test["aws:TagKeys"])]
        like = operator.endswith("StringLike")
        fold = operator.endswith("IgnoreCase")

        def hit(key: str, allowed: list[str] = allowed, like: bool = like,
                fold: bool = fold) -> bool:
            return any(fnmatchcase(key.lower() if fold else key, a.lower() if fold else a)
                       if like else (key.lower() == a.lower() if fold else key == a)
                       for a in allowed)

        if operator == "Null":
            if (test["aws:TagKeys"] == "false") != bool(keys):
                return False
        elif operator.startswith("ForAllValues:"):
            if not all(hit(k) for k in keys):
                return False
        elif operator.startswith("ForAnyValue:") and not any(hit(k) for k in keys):
            return False
    return True


def denied_tag_write(statements: Iterable[dict[str, Any]], action: str,
                     keys: frozenset[str]) -> str | None:
    """Why IAM would refuse a tag write of `keys` by `action`, or None. Resource and
    non-tag-key conditions are not evaluated here."""
    relevant = [s for s in statements if _matches(action, s)]
    for statement in relevant:
        names_keys = any("aws:TagKeys" in t for t in statement.get("Condition", {}).values())
        if statement["Effect"] == "Deny" and names_keys and _tag_keys_admitted(statement, keys):
            return f"{statement.get('Sid')} denies {action} of {sorted(keys)}"
    if not any(s["Effect"] == "Allow" and _tag_keys_admitted(s, keys) for s in relevant):
        return f"no statement allows {action} of {sorted(keys)}"
    return None


# The tag keys a call writes or removes, read from its parameters, and the action IAM checks.
def tag_write(service: str, operation: str,
              params: dict[str, Any]) -> tuple[str, frozenset[str]] | None:
    def keys_of(items: Any) -> frozenset[str]:
        if isinstance(items, dict):
            return frozenset(items)
        return frozenset(str(t.get("Key", t.get("key", ""))) if isinstance(t, dict) else str(t)
                         for t in items or [])

    if service == "rds" and operation.startswith(("Create", "Copy")) and "Tags" in params:
        return "rds:AddTagsToResource", keys_of(params["Tags"])  # tags on create
    if "TagSpecifications" in params and service == "ec2":
        return "ec2:CreateTags", frozenset().union(*(keys_of(spec.get("Tags", []))
                                                    for spec in params["TagSpecifications"]))
    for field in ("Tags", "tags", "TagKeys", "tagKeys"):
        if field in params:
            (action,) = iam_actions(service, operation)
            return action, keys_of(params[field])
    return None


# The resources a call names, with the tags they carry in moto at call time.
_EC2_ID_FIELDS = ("InstanceIds", "Resources", "InstanceId", "VolumeId", "SnapshotId",
                  "AllocationId", "ImageId", "NetworkInterfaceId", "GroupId")
_EC2_TYPES = {"i-": "instance", "vol-": "volume", "snap-": "snapshot", "eipalloc-": "elastic-ip",
              "ami-": "image", "eni-": "network-interface", "sg-": "security-group"}
# RDS request fields, the ARN's resource type and the backend's store of it.
_RDS_FIELDS = {"DBInstanceIdentifier": ("db", "databases"),
               "DBClusterIdentifier": ("cluster", "clusters"),
               "DBSnapshotIdentifier": ("snapshot", "database_snapshots"),
               "SourceDBSnapshotIdentifier": ("snapshot", "database_snapshots"),
               "TargetDBSnapshotIdentifier": ("snapshot", "database_snapshots"),
               "DBClusterSnapshotIdentifier": ("cluster-snapshot", "cluster_snapshots"),
               "SourceDBClusterSnapshotIdentifier": ("cluster-snapshot", "cluster_snapshots"),
               "TargetDBClusterSnapshotIdentifier": ("cluster-snapshot", "cluster_snapshots")}
_RDS_STORES = {kind: store for kind, store in _RDS_FIELDS.values()}
Tagged = tuple[str, dict[str, str]]


def _tag_dict(tags: Any) -> dict[str, str]:
    if isinstance(tags, dict):
        return {str(k): str(v.get("Value", "") if isinstance(v, dict) else v)
                for k, v in tags.items()}
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags or []}


def _in_backends(backends: Any, region: str, find: Any) -> tuple[str, Any]:
    """(account, found) for the first account whose `region` backend `find` answers."""
    for account, regions in list(backends.items()):
        if region in regions:
            found = find(regions[region])
            if found is not None:
                return account, found
    return "unknown", None


def _ec2(region: str, params: dict[str, Any]) -> list[Tagged]:
    from moto.ec2.models import ec2_backends

    named: list[str] = []
    for field in _EC2_ID_FIELDS:
        value = params.get(field)
        named += [str(v) for v in (value if isinstance(value, list) else [value]) if v]
    found = []
    for resource_id in named:
        kind = next((k for p, k in _EC2_TYPES.items() if resource_id.startswith(p)), None)
        if kind is None:
            continue
        account, tags = _in_backends(ec2_backends, region,
                                     lambda b, r=resource_id: b.tags.get(r))
        if kind in {"snapshot", "image"}:
            account = ""  # their ARNs name no account
        found.append((f"arn:aws:ec2:{region}:{account}:{kind}/{resource_id}", dict(tags or {})))
    return found


def _rds(region: str, params: dict[str, Any]) -> list[Tagged]:
    from moto.rds.models import rds_backends

    def place(kind: str, name: str) -> tuple[str, str, str]:
        parts = name.split(":")
        if name.startswith("arn:") and len(parts) > 6:  # e.g. a copy's source elsewhere
            return parts[3], parts[5], parts[6]
        return region, kind, name

    named = [place(kind, str(params[field])) for field, (kind, _) in _RDS_FIELDS.items()
             if params.get(field)]
    if params.get("ResourceName"):  # tag calls name the resource by ARN
        named.append(place("", str(params["ResourceName"])))
    found = []
    for region_of, kind, name in named:
        account, resource = _in_backends(
            rds_backends, region_of,
            lambda b, k=kind, n=name: getattr(b, _RDS_STORES.get(k, ""), {}).get(n))
        found.append((f"arn:aws:rds:{region_of}:{account}:{kind}:{name}",
                      _tag_dict(getattr(resource, "tags", []))))
    return found


def _iam(params: dict[str, Any]) -> list[Tagged]:
    from moto.iam.models import iam_backends

    if not params.get("UserName"):
        return []
    name = str(params["UserName"])
    for account, partitions in list(iam_backends.items()):
        user = partitions["aws"].users.get(name)
        if user is not None:
            return [(f"arn:aws:iam::{account}:user/{name}", _tag_dict(user.tags))]
    return [(f"arn:aws:iam::unknown:user/{name}", {})]


def _autoscaling(region: str, params: dict[str, Any]) -> list[Tagged]:
    from moto.autoscaling.models import autoscaling_backends

    names = {str(params["AutoScalingGroupName"])} if params.get("AutoScalingGroupName") else set()
    names |= {str(t["ResourceId"]) for t in params.get("Tags", []) if t.get("ResourceId")}
    found = []
    for name in sorted(names):
        account, group = _in_backends(autoscaling_backends, region,
                                      lambda b, n=name: b.autoscaling_groups.get(n))
        found.append((f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:"
                      f"unknown:autoScalingGroupName/{name}",
                      _tag_dict(getattr(group, "tags", []))))
    return found


def _secretsmanager(region: str, params: dict[str, Any]) -> list[Tagged]:
    from moto.secretsmanager.models import secretsmanager_backends

    secret_id = str(params.get("SecretId") or "")
    if not secret_id:
        return []

    def find(backend: Any) -> Any:
        return next((s for s in backend.secrets.values()
                     if secret_id in {s.arn, s.name}), None)

    account, secret = _in_backends(secretsmanager_backends, region, find)
    arn = secret.arn if secret is not None else (
        secret_id if secret_id.startswith("arn:")
        else f"arn:aws:secretsmanager:{region}:{account}:secret:{secret_id}")
    return [(arn, _tag_dict(getattr(secret, "tags", None) or []))]


# Parameters naming a resource that the operation itself is not authorized on: StopDBInstance
# is authorized on the DB instance; the snapshot it can take is rds:CreateDBSnapshot's, declared
# as its dependent action (Service Authorization Reference).
_NOT_AUTHORIZED_ON = {("rds", "StopDBInstance"): frozenset({"DBSnapshotIdentifier"})}


def resources_named(service: str, region: str, params: dict[str, Any],
                    operation: str = "") -> list[Tagged]:
    """(ARN, tags) of each resource the call names whose service's resource-level conditions
    the tests evaluate (EC2, RDS, IAM users, Auto Scaling groups, secrets), the tags read from
    moto's backend at call time."""
    skipped = _NOT_AUTHORIZED_ON.get((service, operation), frozenset())
    params = {key: value for key, value in params.items() if key not in skipped}
    if service == "ec2":
        return _ec2(region, params)
    if service == "rds":
        return _rds(region, params)
    if service == "iam":
        return _iam(params)
    if service == "autoscaling":
        return _autoscaling(region, params)
    if service == "secretsmanager":
        return _secretsmanager(region, params)
    return []


def _resource_patterns(statement: dict[str, Any]) -> list[str]:
    patterns = []
    for value in _listed(statement.get("Resource", "*")):
        text = value["Fn::Sub"] if isinstance(value, dict) and "Fn::Sub" in value else value
        if not isinstance(text, str):
            text = "*"  # a reference to one of the stack's resources: not an EC2 resource
        text = text.replace("${AWS::Partition}", "aws")
        while "${" in text:
            start = text.index("${")
            text = text[:start] + "*" + text[text.index("}", start) + 1:]
        patterns.append(text)
    return patterns


# Condition keys on a resource's tags, by service; rds has one per resource type.
_RESOURCE_TAG_KEYS = ("aws:ResourceTag/", "ec2:ResourceTag/", "iam:ResourceTag/",
                      "autoscaling:ResourceTag/", "secretsmanager:ResourceTag/",
                      "rds:db-tag/", "rds:cluster-tag/", "rds:snapshot-tag/",
                      "rds:cluster-snapshot-tag/")


def _tag_condition_holds(operator: str, key: str, expected: Any,
                         tags: dict[str, str]) -> bool | None:
    """One aws:ResourceTag/<key> condition against the resource's tags; None when the
    condition is about something else (not evaluated here)."""
    for prefix in _RESOURCE_TAG_KEYS:
        if key.startswith(prefix):
            name = _value(key[len(prefix):])
            break
    else:
        return None
    actual = tags.get(name)
    values = [_value(v) for v in _listed(expected)]
    if operator == "Null":
        return (actual is None) == (str(expected).lower() == "true")
    fold = operator.endswith("IgnoreCase")
    base = operator.removesuffix("IgnoreCase")
    equal = actual is not None and any(
        (actual.lower() == v.lower()) if fold else (actual == v) for v in values)
    if base == "StringEquals":
        return equal
    if base == "StringNotEquals":
        return not equal
    if base == "StringLike":
        return actual is not None and any(fnmatchcase(actual, v) for v in values)
    return None


def _resource_conditions_hold(statement: dict[str, Any], tags: dict[str, str]) -> bool:
    for operator, tests in statement.get("Condition", {}).items():
        for key, expected in tests.items():
            if _tag_condition_holds(operator, key, expected, tags) is False:
                return False
    return True


def denied_on_resource(statements: Iterable[dict[str, Any]], action: str, arn: str,
                       tags: dict[str, str]) -> str | None:
    """Why IAM would refuse `action` on the resource `arn` carrying `tags`, or None. Only the
    statements' resources and their resource-tag conditions are evaluated here."""
    relevant = [s for s in statements if _matches(action, s)
                and any(fnmatchcase(arn, p) for p in _resource_patterns(s))]
    for statement in relevant:
        if statement["Effect"] == "Deny" and statement.get("Condition") and all(
                _tag_condition_holds(op, key, expected, tags)
                for op, tests in statement["Condition"].items()
                for key, expected in tests.items()):
            return f"{statement.get('Sid')} denies {action} on {arn}"
    if not any(s["Effect"] == "Allow" and _resource_conditions_hold(s, tags)
               for s in relevant):
        return f"no statement allows {action} on {arn} (tags {sorted(tags)})"
    return None
