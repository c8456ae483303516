"""What an alarm's metrics name: one target, several, or a search whose targets are not listed."""

from __future__ import annotations

from typing import Any

import pytest

from self_healing.alarm import parse_alarm
from tests.conftest import load_event


def _alarm(*metrics: dict[str, Any]) -> Any:
    event = load_event("self_healing/ec2-cpu-alarm.json")
    event["detail"]["configuration"] = {"metrics": list(metrics)}
    return parse_alarm(event)


def _stat(metric_id: str, name: str, **dimensions: str) -> dict[str, Any]:
    return {"id": metric_id, "metricStat": {"metric": {"namespace": "AWS/EC2", "name": name,
                                                       "dimensions": dimensions}}}


def test_metrics_of_one_instance_name_one_target() -> None:
    """The CloudWatch agent adds dimensions beside InstanceId: still the same instance."""
    alarm = _alarm({"id": "e1", "expression": "m1 + m2"},
                   _stat("m1", "mem_used_percent", InstanceId="i-1", AutoScalingGroupName="w",
                         ImageId="ami-1"),
                   _stat("m2", "CPUUtilization", InstanceId="i-1"))
    assert [str(s) for s in alarm.subjects] == ["InstanceId=i-1"]
    assert alarm.queries == ()


def test_a_math_alarm_over_two_instances_names_both_in_order() -> None:
    alarm = parse_alarm(load_event("self_healing/ec2-metric-math-alarm.json"))
    assert [str(s) for s in alarm.subjects] == ["InstanceId=i-0a1b2c3d4e5f60718",
                                                "InstanceId=i-0c3d4e5f60718293a"]


@pytest.mark.parametrize(("expression", "query"), [
    ("SEARCH('{AWS/EC2,InstanceId} CPUUtilization', 'Average', 300)", True),
    ("SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\", InstanceId)", True),
    ("(m1 + m2) / 2", False),
])
def test_searches_are_told_apart_from_arithmetic(expression: str, query: bool) -> None:
    alarm = _alarm({"id": "e1", "expression": expression})
    assert alarm.queries == (("e1",) if query else ())


def test_a_function_alias_names_the_function_and_a_metric_without_dimensions_nothing() -> None:
    alarm = _alarm(_stat("m1", "Errors", FunctionName="thumbnailer", Resource="thumbnailer:live"),
                   _stat("m2", "ConcurrentExecutions"))
    assert [(s.kind, str(s)) for s in alarm.subjects] == [("function",
                                                           "FunctionName=thumbnailer")]
