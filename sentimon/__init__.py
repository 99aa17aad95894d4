"""sentimon: streaming financial-sentiment monitor.

The library API (the ``sentimon`` command is built on the same calls)::

    import sentimon

    settings = sentimon.load_settings()                 # SENTIMON_* env, sentimon.toml
    frame = sentimon.score(["$ACME beats estimates"])   # label, score, probabilities, model
    sentimon.score_posts(["Coca-Cola gains while PepsiCo slides"])  # + companies, relevance
    sentimon.explain("$ACME beats estimates").top()    # the words behind the score
    query = sentimon.Query(sentimon.connect(settings), settings.namespace)
    query.ticker("ACME", 3600).mean_score               # a ticker's last hour
    summary = sentimon.run_backtest(["posts.jsonl"], namespace="q3", settings=settings)

- ``Settings``, ``load_settings(**overrides)``: the one settings object.
- ``load_scorer(settings=None)`` -> ``Scorer`` (``.score(texts)`` -> probabilities);
  ``score(texts, *, column="text", settings=None, scorer=None)`` -> a pandas DataFrame;
  ``score_posts(texts, *, settings=None, scorer=None)`` -> per text, what ``sentimon
  score --json`` prints: label, score, confidence and each company named, with its own
  label, score and relevance (docs/ENTITIES.md).
- ``explain(text, scorer=None)`` -> ``Explanation``: each word's pull on the label and the
  score (docs/MODEL.md, "Why this score").
- ``load_universe(path=None)`` -> the companies linking knows (the shipped S&P 500 file).
- ``Consumer(settings, *, scorer=None, group=None, namespace=None, until_idle_s=None,
  metrics_port=None)``: a consumer-group member; ``run()`` blocks until ``stop()``.
- ``Query(client, namespace)``, ``connect(settings)``: read aggregates from Redis.
- ``run_backtest(paths, *, namespace=None, settings=None, ...)``: files into ``bt:NAME``;
  ``replay_spec(settings, ...)`` -> ``ReplaySpec``, ``run_replay(settings, spec)``: the
  same for a time range of the Kafka topics.

Nothing here changes process-wide state (signal handlers, the GIL switch interval,
environment variables); the ``sentimon`` command does that for its own process. Names are
imported on first use, so ``import sentimon.windows`` stays free of Kafka, Redis and the
model runtime.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from sentimon.version import __version__

if TYPE_CHECKING:
    from consumers.service import Consumer
    from inference.explain import explain
    from inference.loader import load_scorer
    from inference.posts import score_posts
    from inference.tabular import score
    from sentimon.entities.universe import load_universe
    from sentimon.replay.api import replay_spec, run_backtest
    from sentimon.replay.job import ReplaySpec, run_replay
    from sentimon.settings import Settings, load_settings
    from sentimon.store.client import connect
    from sentimon.store.query import Query

#: Public name -> the module that defines it (imported when the name is first used).
_EXPORTS: dict[str, str] = {
    "Settings": "sentimon.settings",
    "load_settings": "sentimon.settings",
    "load_scorer": "inference.loader",
    "score": "inference.tabular",
    "score_posts": "inference.posts",
    "explain": "inference.explain",
    "load_universe": "sentimon.entities.universe",
    "Consumer": "consumers.service",
    "Query": "sentimon.store.query",
    "connect": "sentimon.store.client",
    "run_backtest": "sentimon.replay.api",
    "replay_spec": "sentimon.replay.api",
    "ReplaySpec": "sentimon.replay.job",
    "run_replay": "sentimon.replay.job",
}

__all__ = [
    "Consumer",
    "Query",
    "ReplaySpec",
    "Settings",
    "__version__",
    "connect",
    "explain",
    "load_scorer",
    "load_settings",
    "load_universe",
    "replay_spec",
    "run_backtest",
    "run_replay",
    "score",
    "score_posts",
]


def __getattr__(name: str) -> Any:
    """PEP 562: import a public name's module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sentimon' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
