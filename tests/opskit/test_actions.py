from __future__ import annotations

from collections.abc import Sequence

import pytest
from botocore.exceptions import ClientError

from opskit.actions import Action, Executor, Status, chunks


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "StopInstances")


def _actions(n: int, **tags: str) -> list[Action]:
    return [Action(f"i-{i}", "ec2:instance", "stop", "outside schedule", tags=tags)
            for i in range(n)]


class FakeApi:
    def __init__(self, bad: set[str] | None = None, already: set[str] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.bad = bad or set()
        self.already = already or set()

    def __call__(self, batch: Sequence[Action]) -> None:
        ids = [a.resource for a in batch]
        self.calls.append(ids)
        if self.bad & set(ids):
            raise _client_error("UnsupportedOperation")
        if self.already & set(ids):
            raise _client_error("IncorrectInstanceState")


def test_dry_run_plans_and_never_calls() -> None:
    api = FakeApi()
    executor = Executor(dry_run=True, exemption_tag_key="opskit:exempt")
    outcomes = executor.run(_actions(3), api, batch_size=50)
    assert api.calls == []
    assert [o.status for o in outcomes] == [Status.PLANNED] * 3
    assert executor.counts() == {"done": 0, "planned": 3, "skipped": 0, "failed": 0}


def test_exempt_resources_are_skipped_in_every_mode() -> None:
    api = FakeApi()
    executor = Executor(dry_run=False, exemption_tag_key="keep")
    executor.run(_actions(2, keep="true") + _actions(1), api, batch_size=50)
    assert api.calls == [["i-0"]]
    assert executor.counts() == {"done": 1, "planned": 0, "skipped": 2, "failed": 0}
    assert executor.outcomes[0].note == "exempt: tagged keep"


def test_batches_respect_size() -> None:
    api = FakeApi()
    executor = Executor(dry_run=False, exemption_tag_key="x")
    executor.run(_actions(120), api, batch_size=50)
    assert [len(c) for c in api.calls] == [50, 50, 20]
    assert executor.counts()["done"] == 120


def test_failing_batch_is_bisected_to_isolate_the_bad_id() -> None:
    api = FakeApi(bad={"i-5"})
    executor = Executor(dry_run=False, exemption_tag_key="x")
    executor.run(_actions(8), api, batch_size=50)
    failed = [o for o in executor.outcomes if o.status is Status.FAILED]
    assert [o.action.resource for o in failed] == ["i-5"]
    assert failed[0].note.startswith("UnsupportedOperation")
    assert executor.counts() == {"done": 7, "planned": 0, "skipped": 0, "failed": 1}
    # 1 full batch + bisection down to the bad id: 1 + 2 + 2 + 2 calls
    assert len(api.calls) == 7


def test_idempotent_error_is_success() -> None:
    api = FakeApi(already={"i-1"})
    executor = Executor(dry_run=False, exemption_tag_key="x")
    executor.run(_actions(2), api, batch_size=50, idempotent_errors={"IncorrectInstanceState"})
    assert executor.counts() == {"done": 2, "planned": 0, "skipped": 0, "failed": 0}
    notes = [o.note for o in executor.outcomes if o.note]
    assert notes == ["already done (IncorrectInstanceState)"]


def test_other_exceptions_propagate() -> None:
    def broken(batch: Sequence[Action]) -> None:
        raise RuntimeError("bug")

    executor = Executor(dry_run=False, exemption_tag_key="x")
    with pytest.raises(RuntimeError):
        executor.run(_actions(1), broken)


def test_skip_fail_and_recorder() -> None:
    seen: list[str] = []
    executor = Executor(dry_run=True, exemption_tag_key="x",
                        recorder=lambda o: seen.append(o.status))
    action = _actions(1)[0]
    executor.skip(action, "spot instance")
    executor.fail(action, "bad tag")
    assert seen == ["skipped", "failed"]
    assert executor.outcomes[1].to_dict() == {
        "resource": "i-0", "resource_type": "ec2:instance", "action": "stop", "status": "failed",
        "reason": "outside schedule", "details": {"note": "bad tag"},
    }


def test_chunks() -> None:
    assert list(chunks([1, 2, 3], 2)) == [[1, 2], [3]]
    with pytest.raises(ValueError, match="size=0"):
        list(chunks([1], 0))


def test_the_one_exemption_check_names_whose_tags() -> None:
    from opskit.actions import Executor

    executor = Executor(dry_run=False, exemption_tag_key="opskit:exempt")
    assert executor.exemption({"opskit:exempt": " ON "}) == "exempt: tagged opskit:exempt"
    assert executor.exemption({"opskit:exempt": "true"}, "group") == (
        "exempt: group tagged opskit:exempt")
    assert executor.exemption({"opskit:exempt": "false"}) is None
    assert executor.exemption({}) is None


def test_a_call_gets_the_typed_parameters_it_expects_or_refuses() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Tagging:
        tags: dict[str, str]

    @dataclass(frozen=True)
    class Other:
        name: str

    action = Action("i-1", "ec2:instance", "tag", "why", {"shown": "in the report"},
                    params=Tagging({"team": "a"}))
    assert action.params_as(Tagging).tags == {"team": "a"}
    # The report shows the details, never the parameters.
    from opskit.actions import Outcome
    assert Outcome(action, Status.DONE).to_dict()["details"] == {"shown": "in the report"}
    with pytest.raises(TypeError, match="'tag' on 'i-1' carries Tagging parameters, "
                                        "expected Other"):
        action.params_as(Other)
    with pytest.raises(TypeError, match="carries NoneType parameters"):
        Action("i-1", "ec2:instance", "tag", "why").params_as(Tagging)


def test_no_actuator_reads_its_call_from_the_report_details() -> None:
    """Calls take their parameters from `Action.params`; `details` are only what is reported."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "functions"
    reads = [f"{path.relative_to(root)}:{number}"
             for path in root.glob("*/*.py") if path.parent.name != "slack_notifier"
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if re.search(r"\baction\.details\[", line)]
    assert reads == []
