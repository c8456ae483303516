"""Where a snapshot comes from (pure): its volume, a copy's source in the description or tags,
and whether that origin may still be needed."""

from __future__ import annotations

import pytest

from resource_cleanup.lineage import COPY_VOLUME, Lineage, Origins, lineage_of, live_origin

EAST_VOLUME = "vol-0e0e0e0e0e0e0e0e0"
EAST_SNAPSHOT = "snap-0e0e0e0e0e0e0e0e0"
GONE_SNAPSHOT = "snap-0d0d0d0d0d0d0d0d0"


def origins(regions: tuple[str, ...] = ("eu-west-1", "us-east-1")) -> Origins:
    volumes = {EAST_VOLUME: "us-east-1"}
    snapshots = {EAST_SNAPSHOT: ("us-east-1", Lineage(volumes=((None, EAST_VOLUME),)))}

    def volume_at(volume: str, region: str | None) -> str | None:
        found = volumes.get(volume)
        return found if found in regions and region in (None, found) else None

    def snapshot_at(snapshot: str, region: str | None) -> tuple[str, Lineage] | None:
        found = snapshots.get(snapshot)
        return found if found and found[0] in regions and region in (None, found[0]) else None

    return Origins(frozenset(regions), volume_at, snapshot_at)


def copy(description: str, **extra: str) -> dict[str, str]:
    return {"SnapshotId": "snap-0c0c0c0c0c0c0c0c0", "VolumeId": COPY_VOLUME,
            "Description": description, **extra}


@pytest.mark.parametrize(("snapshot", "tags", "why"), [
    (copy(f"[Copied {EAST_SNAPSHOT} from us-east-1]"), {},
     f"a copy of {EAST_SNAPSHOT} (us-east-1): its volume {EAST_VOLUME} exists in us-east-1"),
    (copy(f"Copied for DestinationAmi ami-1 from SourceAmi ami-2 for SourceSnapshot "
          f"{EAST_SNAPSHOT}. Task created on 1,700,000,000."), {},
     f"a copy of {EAST_SNAPSHOT} (us-east-1): its volume {EAST_VOLUME} exists in us-east-1"),
    (copy("nightly DR"), {"source-volume": EAST_VOLUME},
     f"its volume {EAST_VOLUME} exists in us-east-1"),
    (copy("nightly DR"), {"Origin": f"arn:aws:ec2:us-east-1:123456789012:volume/{EAST_VOLUME}"},
     f"its volume {EAST_VOLUME} exists in us-east-1"),
    (copy(f"[Copied {GONE_SNAPSHOT} from us-east-1]"), {},
     f"a copy of {GONE_SNAPSHOT}, which is gone: its volume cannot be traced"),
    (copy("copied by hand"), {},
     "a copy whose source is not recorded: its volume cannot be traced"),
    (copy(f"[Copied {EAST_SNAPSHOT} from ap-south-1]"), {},
     f"a copy of {EAST_SNAPSHOT} from ap-south-1, a region this run does not read"),
    ({"SnapshotId": "snap-0a0a0a0a0a0a0a0a0", "VolumeId": EAST_VOLUME}, {},
     f"its volume {EAST_VOLUME} exists in us-east-1"),
    ({"SnapshotId": "snap-0a0a0a0a0a0a0a0a0", "VolumeId": "vol-0b0b0b0b0b0b0b0b0"}, {}, None),
])
def test_a_snapshot_is_kept_while_its_origin_may_be_needed(
        snapshot: dict[str, str], tags: dict[str, str], why: str | None) -> None:
    assert live_origin(lineage_of(snapshot, tags), origins()) == why


def test_a_volume_in_a_region_the_run_does_not_read_keeps_its_snapshots() -> None:
    found = lineage_of(copy(f"[Copied {EAST_SNAPSHOT} from us-east-1]"), {})
    assert live_origin(found, origins(("eu-west-1",))) == (
        f"a copy of {EAST_SNAPSHOT} from us-east-1, a region this run does not read")
