"""The story index in Redis: shared by every consumer of a namespace, its replays' own.

Keys (``sentimon.keys``): ``story:b:<band>`` (JSON list of the newest story ids under an
LSH band key) and ``story:f:<story id>`` (the story's first fingerprint), both expiring
after the story horizon. ``StoryIndex.assign`` reads them for a batch (two ``MGET``s) and
decides each post's story (``sentimon.stories.assign``); ``plan`` adds the index writes
to the batch's atomic write, guarded on every band key as it was read, so a consumer
that raced on the same story sees its write refused and decides again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson
import redis

from sentimon.errors import SinkError
from sentimon.keys import Keys
from sentimon.stories.assign import Assignment, Candidate, StoriesSoFar, assign
from sentimon.stories.fingerprint import Fingerprint
from sentimon.writeplan import Guard, WritePlan

_SEP = "\x1f"
#: Fingerprints kept in memory per index (about 200 bytes each).
_MAX_KNOWN = 200_000


class StoryIndex:
    """Story assignment against one namespace's index."""

    def __init__(self, client: redis.Redis, keys: Keys, *, horizon_s: int) -> None:
        self.client = client
        self.keys = keys
        self.horizon_s = horizon_s
        #: A story's first fingerprint never changes: read each once (bounded).
        self._known: dict[str, Fingerprint] = {}

    def assign(self, posts: Sequence[Candidate]) -> Assignment:
        return assign(posts, self._read_bands, self._read_stories)

    def read_only(self) -> StoriesSoFar:
        """Assignment against this index that writes nothing (``sentimon score``)."""
        return StoriesSoFar(self._read_bands, self._read_stories)

    def plan(self, plan: WritePlan, assignment: Assignment) -> None:
        """The index writes of ``assignment`` (one ``SETEX*`` group: every key expires
        after the horizon), guarded on what was read."""
        writes: list[str] = []
        for band, ids in sorted(assignment.bands.items()):
            key = self.keys.story_band(band)
            seen = assignment.seen.get(band)
            plan.guards.append(Guard(key, None, None if seen is None else _ids(seen)))
            writes += (key, _ids(ids))
        for story_id, fp in sorted(assignment.opened.items()):
            writes += (self.keys.story(story_id), encode(fp))
        if writes:
            plan.add("SETEX*", self.horizon_s, *writes)

    def _read_bands(self, bands: Sequence[str]) -> Mapping[str, list[str] | None]:
        values = self._mget([self.keys.story_band(b) for b in bands])
        return {
            b: None if v is None else orjson.loads(v) for b, v in zip(bands, values, strict=True)
        }

    def _read_stories(self, ids: Sequence[str]) -> Mapping[str, Fingerprint]:
        missing = [i for i in ids if i not in self._known]
        if missing:
            if len(self._known) > _MAX_KNOWN:
                self._known.clear()
            values = self._mget([self.keys.story(i) for i in missing])
            for i, v in zip(missing, values, strict=True):
                if v is not None:
                    self._known[i] = decode(v)
        return {i: self._known[i] for i in ids if i in self._known}

    def _mget(self, keys: list[str]) -> list[str | None]:
        """``MGET``; Redis trouble is a ``SinkError``, which the consumer retries as it
        retries the write (nothing is committed meanwhile)."""
        try:
            return list(self.client.mget(keys))  # type: ignore[arg-type]
        except redis.RedisError as exc:
            raise SinkError(
                f"reading the story index failed (batch not committed, will retry): {exc}"
            ) from exc

    def remember(self, assignment: Assignment) -> None:
        """After a successful write: the stories it opened need no read later."""
        if len(self._known) < _MAX_KNOWN:
            self._known.update(assignment.opened)


def _ids(ids: list[str]) -> str:
    """Band values as stored (and compared by the guard): compact JSON."""
    return orjson.dumps(ids).decode()


def encode(fp: Fingerprint) -> str:
    """A fingerprint as text (the client decodes replies as UTF-8)."""
    return f"{fp.exact}{_SEP}{int(fp.truncated)}{_SEP}{_SEP.join(fp.tokens)}"


def decode(value: str | bytes) -> Fingerprint:
    text = value.decode() if isinstance(value, bytes) else value
    exact, truncated, *tokens = text.split(_SEP)
    return Fingerprint(exact, tuple(t for t in tokens if t), truncated == "1")
