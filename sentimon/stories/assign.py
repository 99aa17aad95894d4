"""Give each post of a batch its story: the earliest near-duplicate within the horizon, or
itself (pure: the index is read and written by the caller).

The story index (``sentimon.store.stories``) keeps, per LSH band key, the newest few
story ids that have a post with that key, and per story its first post's fingerprint.
``assign`` takes what the index held for the batch's band keys, decides each post in
order (a post can join a story begun earlier in the same batch), and returns the index
entries to write plus, for every band key it read, the value it saw: the caller writes
them in the batch's atomic write, guarded on those values, so two consumers racing on one
story cannot both open it (the second write is refused and re-decided).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sentimon.stories.fingerprint import Fingerprint, band_keys, fingerprint, same_story

#: Story ids kept per band key (newest first), and candidates compared per post.
PER_BAND = 4
CANDIDATES = 3


@dataclass(frozen=True)
class Story:
    """A post's story: its id (the first post's id) and whether this post began it."""

    story_id: str
    novel: bool


@dataclass
class Assignment:
    """The outcome for one batch."""

    stories: dict[str, Story] = field(default_factory=dict)
    #: band key -> the story ids to store under it (newest first)
    bands: dict[str, list[str]] = field(default_factory=dict)
    #: story id -> fingerprint of its first post, for stories begun in this batch
    opened: dict[str, Fingerprint] = field(default_factory=dict)
    #: band key -> what the index held when read (None: nothing), to guard the write on
    seen: dict[str, list[str] | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """A post to assign: its id and its fingerprint."""

    post_id: str
    fp: Fingerprint

    @classmethod
    def of(cls, post_id: str, text: str) -> Candidate:
        return cls(post_id, fingerprint(text))


#: Reads the index: band keys -> stored story ids (absent: None).
ReadBands = Callable[[Sequence[str]], Mapping[str, list[str] | None]]
#: Reads the index: story ids -> their first post's fingerprint (absent: not returned).
ReadStories = Callable[[Sequence[str]], Mapping[str, Fingerprint]]


def assign(
    posts: Sequence[Candidate], read_bands: ReadBands, read_stories: ReadStories
) -> Assignment:
    """Stories for ``posts`` in order (module docstring); two index reads in all."""
    keys = {p.post_id: band_keys(p.fp) for p in posts}
    wanted = sorted({k for ks in keys.values() for k in ks})
    seen = dict(read_bands(wanted)) if wanted else {}
    out = Assignment(seen={k: seen.get(k) for k in wanted})
    ids = sorted({i for v in out.seen.values() if v for i in v})
    known = dict(read_stories(ids)) if ids else {}
    bands = {k: list(v or []) for k, v in out.seen.items()}
    for post in posts:
        story = _match(post, keys[post.post_id], bands, known)
        if story is None:
            story = Story(post.post_id, True)
            known[post.post_id] = post.fp
            out.opened[post.post_id] = post.fp
        out.stories[post.post_id] = story
        for key in keys[post.post_id]:
            _push(bands[key], story.story_id)
            out.bands[key] = bands[key]
    return out


def _match(
    post: Candidate, keys: list[str], bands: dict[str, list[str]], known: dict[str, Fingerprint]
) -> Story | None:
    """The story ``post`` joins: among the stories sharing most band keys with it, the
    first it is a near-duplicate of."""
    shared = Counter(i for k in keys for i in bands.get(k, ()))
    for story_id, _ in shared.most_common(CANDIDATES):
        fp = known.get(story_id)
        if fp is not None and same_story(post.fp, fp):
            return Story(story_id, False)
    return None


def _push(ids: list[str], story_id: str) -> None:
    if story_id in ids:
        return
    ids.insert(0, story_id)
    del ids[PER_BAND:]
