"""Recent posts grouped by story (pure).

The pipeline gives every post a story (``sentimon.stories``): the id of the first post of
its near-duplicate group within the story horizon, kept in the post's summary as
``story`` (with ``novel`` when the post began it). A wire story re-published by a dozen
outlets is one piece of news, so the recent-posts lists show one row per story, "12
copies, first by Newswire at 14:02", with its copies listed beneath. Copies are counted
among the posts in view (the recent-posts stream keeps the latest few per entity), and
the first is the post whose id is the story id, or else the earliest in view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Post = dict[str, Any]


@dataclass(frozen=True)
class StoryGroup:
    """The posts in view of one story, newest first, and the one shown for it."""

    story: str
    posts: tuple[Post, ...]
    #: the story's first post (id == story id) when in view, else the earliest in view
    first: Post

    @property
    def copies(self) -> int:
        return len(self.posts)

    @property
    def began_in_view(self) -> bool:
        """Whether the post that began the story is among the posts in view."""
        return str(self.first.get("id")) == self.story

    @property
    def latest_ts(self) -> int:
        return max(_ts(p) for p in self.posts)


def story_of(post: Post) -> str:
    """The post's story id (a post written before stories is its own story)."""
    return str(post.get("story") or post.get("id"))


def group_by_story(posts: Iterable[Post]) -> list[StoryGroup]:
    """One group per story, the story with the latest post first (ties: by story id)."""
    by_story: dict[str, list[Post]] = {}
    for post in posts:
        by_story.setdefault(story_of(post), []).append(post)
    groups = [_group(story, members) for story, members in by_story.items()]
    groups.sort(key=lambda g: (-g.latest_ts, g.story))
    return groups


def _group(story: str, members: list[Post]) -> StoryGroup:
    newest = tuple(sorted(members, key=lambda p: (-_ts(p), str(p.get("id")))))
    origin = next((p for p in newest if str(p.get("id")) == story), None)
    return StoryGroup(story, newest, origin or newest[-1])


def summary(group: StoryGroup) -> str:
    """``12 copies, first by Newswire at 14:02`` (UTC); ``1 post, by Newswire at 14:02``
    for a story with one post in view. "first seen" when its first post is not in view."""
    first = group.first
    by = f"by {first.get('source') or first.get('kind') or 'unknown'} at {hhmm(first.get('ts'))}"
    if group.copies == 1:
        return f"1 post, {by}"
    lead = "first" if group.began_in_view else "first seen"
    return f"{group.copies} copies, {lead} {by}"


def hhmm(ts_ms: object) -> str:
    """``14:02`` (UTC), or ``?`` without a time."""
    if not isinstance(ts_ms, int | float):
        return "?"
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%H:%M")


def _ts(post: Post) -> int:
    ts = post.get("ts")
    return int(ts) if isinstance(ts, int | float) else 0
