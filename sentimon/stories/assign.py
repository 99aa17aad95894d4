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
    #: band key -> what the index held when read (None: nothing), for each band key the
    #: write changes: the write is guarded on it
    seen: dict[str, list[str] | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """A post to assign: its id, its fingerprint and its LSH band keys (computed with the
    scoring, off the consumer's one writer thread)."""

    post_id: str
    fp: Fingerprint
    keys: tuple[str, ...]

    @classmethod
    def of(cls, post_id: str, text: str) -> Candidate:
        fp = fingerprint(text)
        return cls(post_id, fp, tuple(band_keys(fp)))


#: Reads the index: band keys -> stored story ids (absent: None).
ReadBands = Callable[[Sequence[str]], Mapping[str, list[str] | None]]
#: Reads the index: story ids -> their first post's fingerprint (absent: not returned).
ReadStories = Callable[[Sequence[str]], Mapping[str, Fingerprint]]


def assign(
    posts: Sequence[Candidate], read_bands: ReadBands, read_stories: ReadStories
) -> Assignment:
    """Stories for ``posts`` in order (module docstring); two index reads in all."""
    keys = {p.post_id: p.keys for p in posts}
    wanted = sorted({k for ks in keys.values() for k in ks})
    seen = dict(read_bands(wanted)) if wanted else {}
    read = {k: seen.get(k) for k in wanted}
    bands = {k: list(v or []) for k, v in read.items()}
    # Only the stories some post would compare itself with are fetched.
    ids = sorted({i for p in posts for i in _ranked(keys[p.post_id], bands)})
    known = dict(read_stories(ids)) if ids else {}
    out = Assignment()
    for post in posts:
        story = _match(post, _ranked(keys[post.post_id], bands), known)
        if story is None:
            story = Story(post.post_id, True)
            known[post.post_id] = post.fp
            out.opened[post.post_id] = post.fp
        out.stories[post.post_id] = story
        for key in keys[post.post_id]:
            if _push(bands[key], story.story_id):
                out.bands[key] = bands[key]
    # A band key the write changes is guarded on what was read: a consumer that changed
    # it meanwhile makes this write fail and the batch decide again.
    out.seen = {k: read[k] for k in out.bands}
    return out


def _ranked(keys: Sequence[str], bands: dict[str, list[str]]) -> list[str]:
    """The stories sharing most band keys with a post, most first (at most CANDIDATES;
    on a tie, the one met first)."""
    shared: dict[str, int] = {}
    for key in keys:
        for story_id in bands.get(key, ()):
            shared[story_id] = shared.get(story_id, 0) + 1
    if len(shared) <= 1:
        return list(shared)
    return sorted(shared, key=shared.__getitem__, reverse=True)[:CANDIDATES]


def _match(post: Candidate, ranked: list[str], known: dict[str, Fingerprint]) -> Story | None:
    """The story ``post`` joins: among the stories sharing most band keys with it
    (``ranked``, including stories begun earlier in the batch), the first it is a
    near-duplicate of."""
    for story_id in ranked:
        fp = known.get(story_id)
        if fp is not None and same_story(post.fp, fp):
            return Story(story_id, False)
    return None


def _push(ids: list[str], story_id: str) -> bool:
    """Put ``story_id`` first under a band key; False if it was there already."""
    if story_id in ids:
        return False
    ids.insert(0, story_id)
    del ids[PER_BAND:]
    return True


class StoriesSoFar:
    """Assigns stories batch after batch without writing anywhere: what this run has
    assigned, over what ``read_bands``/``read_stories`` hold (an index read-only, or
    nothing). ``sentimon score`` uses it within its input, or against a namespace."""

    def __init__(self, read_bands: ReadBands | None = None,
                 read_stories: ReadStories | None = None) -> None:  # fmt: skip
        self._read_bands = read_bands
        self._read_stories = read_stories
        self._bands: dict[str, list[str]] = {}
        self._stories: dict[str, Fingerprint] = {}

    def assign(self, posts: Sequence[Candidate]) -> Assignment:
        out = assign(posts, self._bands_of, self._stories_of)
        self._bands.update(out.bands)
        self._stories.update(out.opened)
        return out

    def _bands_of(self, keys: Sequence[str]) -> Mapping[str, list[str] | None]:
        missing = [k for k in keys if k not in self._bands]
        found = dict(self._read_bands(missing)) if self._read_bands and missing else {}
        return {k: self._bands.get(k, found.get(k)) for k in keys}

    def _stories_of(self, ids: Sequence[str]) -> Mapping[str, Fingerprint]:
        missing = [i for i in ids if i not in self._stories]
        found = dict(self._read_stories(missing)) if self._read_stories and missing else {}
        return {**found, **{i: self._stories[i] for i in ids if i in self._stories}}
