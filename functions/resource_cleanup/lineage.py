"""Where a snapshot comes from, and whether that origin still lives (pure, no AWS).

A snapshot names its volume (`VolumeId`). A copy does not: CopySnapshot gives it the arbitrary
`vol-ffffffff`, and records its source in the description (`[Copied snap-... from us-east-1]`,
or `... for SourceSnapshot snap-...` when an AMI was copied); DR tools record it in tags (an
ARN, or an id under a key naming a source or volume). A snapshot is tied to a live volume when
that volume, or the volume of the snapshot it was copied from (followed down the chain),
exists in a region the run reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

COPY_VOLUME = "vol-ffffffff"  # the VolumeId CopySnapshot gives every copy
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d"
_COPIED = re.compile(rf"\bCopied (snap-[0-9a-f]{{8,17}}) from ({_REGION})\b")
_SOURCE_SNAPSHOT = re.compile(r"\bSourceSnapshot (snap-[0-9a-f]{8,17})\b")
_VOLUME = re.compile(r"\bvol-[0-9a-f]{8,17}\b")
_VOLUME_ARN = re.compile(
    rf"\barn:aws[a-z-]*:ec2:({_REGION}):\d{{0,12}}:volume/(vol-[0-9a-f]{{8,17}})")
_SNAPSHOT_ARN = re.compile(
    rf"\barn:aws[a-z-]*:ec2:({_REGION}):\d{{0,12}}:snapshot/(snap-[0-9a-f]{{8,17}})")
_SNAPSHOT = re.compile(r"^snap-[0-9a-f]{8,17}$")
MAX_CHAIN = 5  # copies of copies followed this deep; deeper, the snapshot is kept

# An id and the region it is in; None: any region the run reads.
Place = tuple[str | None, str]


@dataclass(frozen=True, slots=True)
class Lineage:
    volumes: tuple[Place, ...] = ()  # volumes it was taken from
    sources: tuple[Place, ...] = ()  # snapshots it was copied from
    copied: bool = False  # a copy: without a source, its volume cannot be known


def lineage_of(snapshot: Mapping[str, Any], tags: Mapping[str, str]) -> Lineage:
    volumes: list[Place] = []
    sources: list[Place] = []
    own = str(snapshot.get("SnapshotId", ""))
    volume = str(snapshot.get("VolumeId") or "")
    copied = volume == COPY_VOLUME
    if volume and not copied:
        volumes.append((None, volume))  # normally this region's; looked for everywhere
    description = str(snapshot.get("Description") or "")
    for source, region in _COPIED.findall(description):
        sources.append((region, source))
    sources += [(None, s) for s in _SOURCE_SNAPSHOT.findall(description)]
    volumes += [(None, v) for v in _VOLUME.findall(description) if v != COPY_VOLUME]
    for key, value in tags.items():
        volumes += [(region, v) for region, v in _VOLUME_ARN.findall(value)]
        sources += [(region, s) for region, s in _SNAPSHOT_ARN.findall(value)]
        named = key.lower()
        if _VOLUME.fullmatch(value) and ("source" in named or "volume" in named):
            volumes.append((None, value))
        elif _SNAPSHOT.fullmatch(value) and ("source" in named or "snapshot" in named):
            sources.append((None, value))
    sources = [s for s in sources if s[1] != own]
    return Lineage(tuple(dict.fromkeys(volumes)), tuple(dict.fromkeys(sources)),
                   copied or bool(sources))


@dataclass(frozen=True, slots=True)
class Origins:
    """Lookups over the regions the run reads: where a volume or a snapshot exists."""

    regions: Collection[str]
    # (volume id, region or None) -> the region it exists in, or None
    volume_at: Callable[[str, str | None], str | None]
    # (snapshot id, region or None) -> (its region, its lineage), or None when it is gone
    snapshot_at: Callable[[str, str | None], tuple[str, Lineage] | None]


def live_origin(lineage: Lineage, origins: Origins, depth: int = 0) -> str | None:
    """Why the snapshot is tied to something that may still be needed, or None when its
    volume is known to be gone."""
    for region, volume in lineage.volumes:
        if region is not None and region not in origins.regions:
            return f"its volume {volume} is in {region}, a region this run does not read"
        found = origins.volume_at(volume, region)
        if found is not None:
            return f"its volume {volume} exists in {found}"
    for region, source in lineage.sources:
        if region is not None and region not in origins.regions:
            return f"a copy of {source} from {region}, a region this run does not read"
    if lineage.volumes:
        return None  # its volume is named, and gone from every region the run reads
    for region, source in lineage.sources:
        located = origins.snapshot_at(source, region)
        if located is None:
            return f"a copy of {source}, which is gone: its volume cannot be traced"
        if depth >= MAX_CHAIN:
            return f"a copy of {source}, more than {MAX_CHAIN} copies from its volume"
        why = live_origin(located[1], origins, depth + 1)
        if why is not None:
            return f"a copy of {source} ({located[0]}): {why}"
    if lineage.copied and not lineage.sources:
        return "a copy whose source is not recorded: its volume cannot be traced"
    return None
