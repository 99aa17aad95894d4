"""Recent posts grouped by story, the story tables, and stories in the chart (pure)."""

from __future__ import annotations

from typing import Any

from dashboard.figures import score_volume_spec
from dashboard.frames import copies_frame, series_frame, story_frame, ticker_frame
from dashboard.snapshot import EntityView, TickerRow
from dashboard.story_groups import group_by_story, summary
from sentimon.store.query import Point
from sentimon.windows import Stats

T = 1_793_000_000_000  # 07:33:20 UTC
MIN = 60_000


def post(pid: str, story: str | None, minutes: int, source: str = "wire", **more: Any) -> dict:
    out = {"id": pid, "ts": T + minutes * MIN, "source": source, "text": f"text {pid}"}
    out |= {"label": "negative", "score": -0.5, **more}
    if story is not None:
        out |= {"story": story, "novel": story == pid}
    return out


def wire_story() -> list[dict]:
    """A story begun by Newswire at 07:35, copied three times; two single posts."""
    return [
        post("c3", "w1", 9, "Yahoo"),
        post("solo", "solo", 8),
        post("c1", "w1", 5, "Reuters"),
        post("w1", "w1", 2, "Newswire"),
        post("c2", "w1", 7, "MarketWatch"),
        post("old", None, 1),  # written before stories: its own story
    ]


def test_copies_of_one_story_are_one_group_first_by_the_post_that_began_it():
    groups = group_by_story(wire_story())
    assert [g.story for g in groups] == ["w1", "solo", "old"]  # latest activity first
    wire = groups[0]
    assert wire.copies == 4 and wire.first["id"] == "w1" and wire.began_in_view
    assert [p["id"] for p in wire.posts] == ["c3", "c2", "c1", "w1"]  # newest first
    assert summary(wire) == "4 copies, first by Newswire at 07:35"
    assert summary(groups[1]) == "1 post, by wire at 07:41"


def test_a_story_whose_first_post_is_out_of_view_shows_the_earliest_in_view():
    posts = [p for p in wire_story() if p["id"] != "w1"]
    wire = group_by_story(posts)[0]
    assert wire.first["id"] == "c1" and not wire.began_in_view
    assert summary(wire) == "3 copies, first seen by Reuters at 07:38"


def test_story_frame_has_a_row_per_story_with_its_first_posts_figures():
    mine = [{"ticker": "ACME", "label": "positive", "score": 0.4, "relevance": 0.2}]
    posts = [*wire_story(), post("wrap", "wrap", 0, entities=mine)]
    frame = story_frame(group_by_story(posts), "ACME", 0.4)
    assert list(frame["copies"]) == [4, 1, 1, 1]
    first = frame.iloc[0]
    assert first["story"] == "4 copies, first by Newswire at 07:35"
    assert first["text"] == "text w1" and first["source"] == "Newswire"
    assert first["time"].strftime("%H:%M") == "07:42"  # its latest copy
    wrap = frame.iloc[3]
    assert wrap["score"] == 0.4 and wrap["label"] == "positive" and wrap["low_relevance"]


def test_copies_frame_lists_the_copies_of_repeated_stories_only():
    copies = copies_frame(group_by_story(wire_story()))
    assert list(copies["text"]) == ["text c3", "text c2", "text c1", "text w1"]
    assert list(copies["first"]) == [False, False, False, True]
    assert copies["story"].str.startswith("4 copies, first by Newswire at 07:35: text w1").all()
    assert copies_frame(group_by_story([post("a", "a", 0)])).empty


def test_series_frame_counts_the_stories_begun_per_bin():
    minute = T // 1000 // 60 * 60
    points = [Point(minute + 60 * i, Stats(count=3, s_micro=0)) for i in range(10)]
    begun = [Point(minute + 60 * i, Stats(count=1 if i % 2 else 0)) for i in range(10)]
    frame = series_frame(points, 5, begun)  # 07:33-07:42 in bins of 07:30, 07:35, 07:40
    assert list(frame["count"]) == [6, 15, 9]
    assert list(frame["stories"]) == [1, 2, 2]
    assert series_frame(points, 5)["stories"].isna().all()


def test_the_chart_layers_stories_over_posts_only_when_asked():
    plain, both = score_volume_spec(), score_volume_spec(stories=True)
    assert "layer" not in plain["layer"][0]
    volume = both["layer"][0]["layer"]
    assert [layer["encoding"]["y"]["field"] for layer in volume] == ["count", "stories"]
    assert any(t["field"] == "stories" for t in volume[1]["encoding"]["tooltip"])


def test_ticker_frame_shows_stories_beside_posts():
    hour = Stats(count=12, negative=12, s_micro=-6_000_000)
    view = EntityView(Stats(), hour, Stats(), [], story_h1=Stats(count=2))
    frame = ticker_frame([TickerRow("ACME", view)])
    columns = list(frame.columns)
    assert columns.index("st_1h") == columns.index("n_1h") + 1
    assert frame.loc[0, "n_1h"] == 12 and frame.loc[0, "st_1h"] == 2
