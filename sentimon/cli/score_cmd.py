"""``sentimon score``: score any text as the consumer would, without a broker or Redis.

Inputs: texts as arguments, or ``--file PATH`` (``-``: standard input) with one post per
line, either a JSON object in the input contract (``{"id", "text", "ts", "tickers", ...}``)
or plain text. Each post goes through the consumer's own validation, entity linking and
per-company scoring (``inference.posts.PostScorer``), and gets its story: the first
earlier post of the input it is a near-duplicate of, or with ``--namespace NS`` also of
the stories that namespace holds (read only: nothing is written). ``--explain`` adds why
each post scored so (``inference.explain``, occlusion on the same model): the text with
the words that push the score highlighted (green up, red down; ``[+word]``/``[-word]``
when standard output is not a terminal) and the top words, or with ``--json`` an
``explanation`` object. A bad line is reported on standard error with its line number and
the reason, and the rest are scored; the exit code is 1 when any line was bad.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from inference.explain import Occlusion
from inference.posts import PostScorer, linker_of, scored_json
from sentimon.aggregate import ScoredPost
from sentimon.cli import highlight
from sentimon.contract import Invalid, Limits, Post, validate
from sentimon.errors import SentimonError
from sentimon.keys import Keys
from sentimon.settings import Settings, get_settings
from sentimon.stories.assign import Candidate, StoriesSoFar

#: Posts scored per model call.
_CHUNK = 64


@dataclass(frozen=True)
class Line:
    """One input: where it came from (``line 3``, ``argument 1``) and its post or error."""

    where: str
    post: Post | None
    error: str | None = None


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "score", help="score texts or a file of posts: label, confidence, companies"
    )
    p.add_argument("texts", nargs="*", metavar="TEXT", help="texts to score")
    p.add_argument(
        "--file", default=None, help="JSON lines (input contract) or plain lines; - for stdin"
    )
    p.add_argument("--kind", default="news", help="source kind of the posts (default news)")
    p.add_argument("--model", default=None, help="default SENTIMON_MODEL")
    p.add_argument("--json", action="store_true", help="one JSON object per post")
    p.add_argument(
        "--explain", action="store_true", help="show which words pushed each score, and how far"
    )
    p.add_argument(
        "--namespace", default=None, help="find stories among a namespace's too (reads Redis)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.texts and args.file is None:
        raise SentimonError("nothing to score: give TEXT arguments or --file PATH (- for stdin)")
    settings = get_settings()
    lines = list(_inputs(args, settings))
    from inference.loader import load_scorer  # noqa: PLC0415 (heavy: loaded only when used)

    scorer = PostScorer(load_scorer(settings, model=args.model), linker_of(settings))
    explainer = Occlusion(scorer.scorer) if args.explain else None
    stories = _stories(settings, args.namespace)
    tty = sys.stdout.isatty()
    bad = 0
    for line, result in _score(scorer, lines):
        if not isinstance(result, str):
            result = _with_story(stories, result)
        if isinstance(result, str):
            bad += 1
            print(f"{line.where}: {result}", file=sys.stderr)
        elif args.json:
            out = scored_json(result)
            if explainer is not None:
                out["explanation"] = explainer.explain(result.post.text).as_json()
            print(json.dumps(out, ensure_ascii=False))
        else:
            _print_readable(result)
            if explainer is not None:
                print("\n".join(highlight.render(explainer.explain(result.post.text), tty=tty)))
    return 1 if bad else 0


def _stories(settings: Settings, namespace: str | None) -> StoriesSoFar:
    """Stories within the input, or also against ``namespace``'s index (read only)."""
    if namespace is None:
        return StoriesSoFar()
    from sentimon.store.client import connect  # noqa: PLC0415 (Redis only when asked for)
    from sentimon.store.stories import StoryIndex  # noqa: PLC0415 (Redis only when asked for)

    index = StoryIndex(connect(settings), Keys(namespace), horizon_s=settings.story_horizon_s)
    return index.read_only()


def _with_story(stories: StoriesSoFar, item: ScoredPost) -> ScoredPost:
    story = stories.assign([Candidate.of(item.post.id, item.post.text)]).stories[item.post.id]
    return replace(item, story_id=story.story_id, novel=story.novel)


def _inputs(args: argparse.Namespace, settings: Settings) -> Iterator[Line]:
    limits = Limits(settings.max_message_bytes, settings.max_text_chars, settings.max_tickers)
    now_ms = int(time.time() * 1000)
    for n, text in enumerate(args.texts, start=1):
        yield _parse(f"argument {n}", text, f"arg-{n}", args.kind, now_ms, limits, raw_json=False)
    if args.file is not None:
        for n, text in _read_lines(args.file):
            if text.strip():
                yield _parse(f"line {n}", text, f"line-{n}", args.kind, now_ms, limits)


def _read_lines(path: str) -> Iterable[tuple[int, str]]:
    if path == "-":
        return enumerate((line.rstrip("\n") for line in sys.stdin), start=1)
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return list(enumerate((line.rstrip("\n") for line in handle), start=1))
    except OSError as exc:
        raise SentimonError(f"cannot read {path}: {exc.strerror}; check the path") from exc


def _parse(
    where: str, text: str, default_id: str, kind: str, now_ms: int, limits: Limits,
    *, raw_json: bool = True,
) -> Line:  # fmt: skip
    """A JSON object line through the contract; any other line as a post's text."""
    if raw_json and text.lstrip().startswith("{"):
        outcome = validate(text.encode(), kind=kind, record_ts_ms=now_ms, limits=limits)
    else:
        body = json.dumps({"id": default_id, "text": text})
        outcome = validate(body.encode(), kind=kind, record_ts_ms=now_ms, limits=limits)
    if isinstance(outcome, Invalid):
        return Line(where, None, outcome.reason)
    return Line(where, outcome)


def _score(scorer: PostScorer, lines: list[Line]) -> Iterator[tuple[Line, ScoredPost | str]]:
    """Each line with its scored post, or the reason it could not be scored."""
    for start in range(0, len(lines), _CHUNK):
        chunk = lines[start : start + _CHUNK]
        good = [line for line in chunk if line.post is not None]
        scored: Iterator[ScoredPost | str]
        try:
            scored = iter(scorer.score([line.post for line in good if line.post]))
        except SentimonError:
            raise
        except Exception:  # one bad post fails the call: score them one by one
            scored = iter(_one_by_one(scorer, good))
        for line in chunk:
            yield (line, line.error or "invalid") if line.post is None else (line, next(scored))


def _one_by_one(scorer: PostScorer, lines: list[Line]) -> Iterator[ScoredPost | str]:
    for line in lines:
        try:
            yield scorer.score([line.post])[0] if line.post else "invalid"
        except SentimonError:
            raise
        except Exception as exc:
            yield f"scoring failed: {type(exc).__name__}: {exc}"


def _print_readable(item: ScoredPost) -> None:
    confidence = "-" if item.confidence is None else f"{item.confidence:.2f}"
    story = "" if item.novel else f"  (copy of {item.story_id})"
    print(f"{item.post.id}  {item.label:<8} score {item.score:+.3f}  confidence {confidence}"
          f"{story}")  # fmt: skip
    print(f"  {item.post.text[:160]}")
    for c in item.companies:
        name = f" ({c.name})" if c.name else ""
        print(
            f"  - {c.ticker}{name}: {c.label} {c.score:+.3f}, relevance {c.relevance:.1f}, "
            f"{c.mentions} mention{'s' if c.mentions != 1 else ''}"
        )
