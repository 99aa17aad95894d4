"""PostScorer: one model call a batch, per-company texts only where a post needs them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from inference.posts import PostScorer
from inference.scorer import ScoreBatch
from sentimon.contract import Post
from sentimon.entities.link import Linker
from sentimon.entities.universe import parse_universe
from tests.unit.sentimon.entities.test_link import UNIVERSE


class WordScorer:
    """Positive if the text says "gains", negative if "slides"; records its calls."""

    model_id = "words@1"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        self.calls.append(list(texts))
        rows = []
        for text in texts:
            if "gains" in text and "slides" not in text:
                rows.append([0.1, 0.1, 0.8])
            elif "slides" in text and "gains" not in text:
                rows.append([0.8, 0.1, 0.1])
            else:
                rows.append([0.2, 0.6, 0.2])
        return ScoreBatch(np.array(rows), self.model_id)


def post(pid: str, text: str) -> Post:
    return Post(pid, text, 0, "news", "wire", ())


def test_mixed_posts_get_a_label_per_company_in_the_same_call() -> None:
    scorer = WordScorer()
    posts = PostScorer(scorer, Linker(parse_universe(UNIVERSE, "t.csv")))
    out = posts.score([
        post("a", "Coca-Cola gains after an upbeat forecast while PepsiCo slides"),
        post("b", "Microsoft gains on cloud demand"),
    ])  # fmt: skip
    assert [(c.ticker, c.label) for c in out[0].companies] == [("KO", "positive"),
                                                               ("PEP", "negative")]  # fmt: skip
    assert out[0].label == "neutral"  # the post as a whole is mixed
    assert [(c.ticker, c.label) for c in out[1].companies] == [("MSFT", "positive")]
    assert len(scorer.calls) == 1 and len(scorer.calls[0]) == 4  # 2 posts + 2 clauses
    assert out[1].confidence == 0.8


def test_single_company_posts_cost_no_extra_text() -> None:
    scorer = WordScorer()
    PostScorer(scorer, Linker(parse_universe(UNIVERSE, "t.csv"))).score(
        [post(str(i), "Microsoft gains") for i in range(5)]
    )
    assert [len(c) for c in scorer.calls] == [5]


def test_without_a_linker_tickers_and_cashtags_only() -> None:
    scorer = WordScorer()
    p = Post("a", "Microsoft gains, $KO slides", 0, "news", "wire", ("KO",))
    [out] = PostScorer(scorer, None).score([p])
    assert [c.ticker for c in out.companies] == ["KO"]
