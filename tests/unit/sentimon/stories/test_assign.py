"""Story assignment over an index (in memory here): order, copies in one batch, guards."""

from __future__ import annotations

from sentimon.store.stories import decode, encode
from sentimon.stories.assign import PER_BAND, Candidate, StoriesSoFar, assign
from sentimon.stories.fingerprint import band_keys, fingerprint

WIRE = "Apple beats quarterly revenue estimates on iPhone strength"
COPIES = [
    "UPDATE 1-Apple beats quarterly revenue estimates on iPhone strength - Reuters",
    "APPLE BEATS QUARTERLY REVENUE ESTIMATES ON IPHONE STRENGTH",
    "Apple beats quarterly revenue estimates on iPhone strength https://t.co/abc",
]
TWIN = "Apple misses quarterly revenue estimates on iPhone weakness"


def candidates(*texts: str, start: int = 0) -> list[Candidate]:
    return [Candidate.of(f"p{start + i}", t) for i, t in enumerate(texts)]


def test_copies_in_one_batch_join_the_first_and_twins_stay_apart() -> None:
    out = assign(candidates(WIRE, *COPIES, TWIN), lambda keys: {}, lambda ids: {})
    assert {p: (s.story_id, s.novel) for p, s in out.stories.items()} == {
        "p0": ("p0", True), "p1": ("p0", False), "p2": ("p0", False), "p3": ("p0", False),
        "p4": ("p4", True),
    }  # fmt: skip
    assert set(out.opened) == {"p0", "p4"}
    # every band key read is guarded on what was read (nothing, here)
    assert set(out.seen) == {k for c in candidates(WIRE, *COPIES, TWIN) for k in band_keys(c.fp)}
    assert all(v is None for v in out.seen.values())


def test_a_later_batch_finds_the_story_in_the_index() -> None:
    first = assign(candidates(WIRE), lambda keys: {}, lambda ids: {})
    bands, stories = first.bands, first.opened
    later = assign(
        candidates(COPIES[0], start=7),
        lambda keys: {k: bands.get(k) for k in keys},
        lambda ids: {i: stories[i] for i in ids if i in stories},
    )
    assert later.stories["p7"].story_id == "p0" and not later.stories["p7"].novel
    assert later.opened == {}
    assert all(len(v) <= PER_BAND for v in later.bands.values())


def test_stories_so_far_remembers_across_calls() -> None:
    run = StoriesSoFar()
    assert run.assign(candidates(WIRE)).stories["p0"].novel
    assert run.assign(candidates(COPIES[1], start=1)).stories["p1"].story_id == "p0"


def test_fingerprints_round_trip_as_text() -> None:
    fp = fingerprint(COPIES[0])
    assert decode(encode(fp)) == fp
    assert decode(encode(fp).encode()) == fp
