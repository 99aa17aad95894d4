"""The Redis key layout, in one place: key names, field names, and the Lua scripts' source.

Every key of a namespace starts with ``sentimon:{<namespace>}:``. The braces are a Redis
Cluster hash tag: all keys of one namespace live in one hash slot, which is what lets a
single Lua script update them atomically on a cluster too. The one global key is
``sentimon:namespaces`` (``REGISTRY``), the set of namespaces written to.

Keys of a namespace (``Keys``; docs/ARCHITECTURE.md and docs/ALERTS.md point here):

- ``h:<entity>:<hour_s>`` hash: one event-time hour of an entity; minute ``m`` (0-59) in
  fields ``m:n m:pos m:neu m:neg m:s m:ss`` (``minute_field``), the hour's totals in
  ``n pos neu neg s ss`` (``HOUR_TOTAL_FIELDS``); the stories begun there in
  ``m:st m:stneg m:sts`` and ``st stneg sts`` (``STORY_FIELDS``); TTL retention + 1 h.
- ``top:<hour_s>`` sorted set: ticker -> posts that hour (the volume index).
- ``recent:<entity>`` stream: the latest scored posts, field ``p`` (``RECENT_POST``) = JSON.
- ``seen:<post id>`` string: a post id already counted (TTL: the dedup horizon).
- ``story:b:<band key>`` string: JSON list of the newest story ids with a post under that
  LSH band key (``sentimon.stories``; TTL: the story horizon).
- ``story:f:<story id>`` string: the fingerprint of a story's first post (TTL: the story
  horizon).
- ``offsets`` hash: ``topic:partition`` -> last offset applied to the aggregates (the fence).
- ``dlq`` hash: topic -> records sent to that topic's dead-letter topic.
- ``dlq:marks`` hash: ``topic:partition`` -> highest offset whose dead letter the broker
  acknowledged; ``topic:partition|pending`` -> ``offset:epoch_ms`` reserved before a publish.
- ``stats`` hash: pipeline counters (``COUNTERS``).
- ``meta`` hash: ``watermark_ms`` (max event time seen), ``model`` (``META_*``); a backtest
  namespace also keeps its run there (``sentimon.replay.job``: status, summary, ...).
- ``health`` hash: consumer id -> JSON health snapshot (rate, lag, assignment, Redis state).
- ``model_health`` hash: the model-health window of the consumer that wrote last (label
  mix, confidence, escalations, drift against the reference profile;
  ``sentimon.health_window.summary_fields``), written every few seconds.
- ``alerts`` stream: the alert history (one entry per firing/resolved event).
- ``alerts:state`` hash: ``<rule>|<entity>`` -> JSON lifecycle of that pair's alert.
- ``alerts:open`` hash: ``<rule>|<entity>`` -> JSON summary of each alert now firing.
- ``alerts:w:<window_s>:<entity>:<block>`` hash: baseline sums of tumbling windows ``i``
  with ``i // ALERT_WINDOW_BLOCK == block``, fields ``i:n i:s i:ss`` (``window_field``);
  for a rule with a minimum relevance, ``<entity>`` is the series ``<entity>@>=<level>``
  (the mentions at that relevance or above); for a rule counting stories it is
  ``<entity>#stories`` (``STORY_SERIES``: stories begun, fields ``i:n i:s``).
- ``alerts:outbox`` stream: notifications to deliver (consumer group ``dispatch``).
- ``alerts:delivery`` hash: ``<outbox entry id>|<sink>`` -> JSON progress of a delivery.
- ``alerts:silences`` hash: silence id -> JSON silence.
- ``alerts:dead:<sink>`` list: notifications that sink gave up on, newest first.
- ``alerts:resend:<sink>`` hash: alert id -> JSON of an alert that sink keeps re-sending
  while it fires (the Alertmanager sink, ``sentimon.alerts.resend_state``).

Entities are ``market``, ``kind:<news|social>``, ``ticker:<SYMBOL>`` and
``sector:<name>``. A company or sector entity counts every post about it, whatever the
relevance; its mentions of relevance below 1 are also counted, level by level, in
``<entity>@<level>`` (``relevance_entity``: ``ticker:AAPL@0.2`` ... ``@0.8``), so a read can
leave out the levels below a minimum relevance, or weight by relevance, exactly.

The Lua scripts that read or write these keys live beside this module, in
``sentimon/scripts/<name>.lua``; ``script_source`` loads one and fills in the field names
it uses from the constants here (``__STAT_FIELDS__``, ``__FIELD_SEP__``, ...), so no script
holds its own copy of the layout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from importlib.resources import files

MARKET = "market"
REGISTRY = "sentimon:namespaces"

# --- the stats of a bucket (fields of the hour hashes) -------------------------------
#: Posts counted.
N = "n"
#: Posts labelled positive, neutral, negative.
POS = "pos"
NEU = "neu"
NEG = "neg"
#: Sum of the scores (each in [-1, 1]) in micro-units (``sentimon.windows.quantize``).
S = "s"
#: Sum of the squared scores, in micro-units.
SS = "ss"
#: The stats of a bucket, in ``sentimon.windows.Stats`` order.
STAT_FIELDS = (N, POS, NEU, NEG, S, SS)
#: Stories begun in a bucket (``sentimon.stories``: a story counts once, at its first
#: post): how many, how many negative, and the sum of their first posts' scores (micro).
ST = "st"
ST_NEG = "stneg"
ST_S = "sts"
STORY_FIELDS = (ST, ST_NEG, ST_S)
#: An hour hash's totals: the bare stat names.
HOUR_TOTAL_FIELDS = STAT_FIELDS
#: Between a minute (or window) index and a stat name: ``12:n``.
FIELD_SEP = ":"
#: The per-window sums of the alert baselines (``Keys.alert_window``): ``<i>:n`` ...
ALERT_WINDOW_FIELDS = (N, S, SS)
#: Tumbling windows per baseline-sums hash (``alerts:w:...:<block>``, block = i // 32).
ALERT_WINDOW_BLOCK = 32
#: After an entity in a baseline-sums key: the series of stories begun (``alerts:w:900:
#: ticker:AAPL#stories:<block>``), for alert rules with ``count = "stories"``.
STORY_SERIES = "#stories"

# --- other fields ---------------------------------------------------------------------
#: ``meta``: the namespace's event-time watermark (epoch ms).
META_WATERMARK = "watermark_ms"
#: ``meta``: the model id of the latest batch written.
META_MODEL = "model"
#: ``recent:<entity>``: the stream entry's field holding the post summary (JSON).
RECENT_POST = "p"
#: ``stats`` counters: records read, posts scored, batches written, records dead-lettered,
#: duplicate posts skipped, batches whose alert hook failed, fences rebased after the
#: broker lost a partition's data.
RECORDS = "records"
SCORED = "scored"
BATCHES = "batches"
DLQ = "dlq"
DUPLICATES = "duplicates"
HOOK_ERRORS = "hook_errors"
OFFSET_RESETS = "offset_resets"
COUNTERS = (RECORDS, SCORED, BATCHES, DLQ, DUPLICATES, HOOK_ERRORS, OFFSET_RESETS)


def minute_field(minute: int, stat: str) -> str:
    """Field of ``stat`` in minute ``minute`` (0-59) of an hour hash: ``12:n``."""
    return f"{minute}{FIELD_SEP}{stat}"


def minute_fields(first: int, last: int, stats: Sequence[str] = STAT_FIELDS) -> list[str]:
    """``stats`` of minutes ``first..last`` (inclusive), minute by minute."""
    return [minute_field(m, stat) for m in range(first, last + 1) for stat in stats]


def window_field(index: int, stat: str) -> str:
    """Field of ``stat`` of tumbling window ``index`` in a baseline-sums hash: ``1234:s``."""
    return f"{index}{FIELD_SEP}{stat}"


# --- the Lua scripts ------------------------------------------------------------------
#: What ``script_source`` fills in every script (a script uses those it needs).
_LAYOUT = {
    "STAT_FIELDS": STAT_FIELDS,
    "FIELD_SEP": FIELD_SEP,
    "ALERT_WINDOW_FIELDS": ALERT_WINDOW_FIELDS,
    "OFFSET_RESETS": OFFSET_RESETS,
}
_PLACEHOLDER = re.compile(r"__([A-Z][A-Z0-9_]*)__")


def lua_strings(names: Iterable[str]) -> str:
    """Lua string literals, comma-separated: ``'n', 's', 'ss'``."""
    return ", ".join(f"'{name}'" for name in names)


def script_source(name: str, **values: str | int | Sequence[str]) -> str:
    """The Lua script ``sentimon/scripts/<name>.lua`` with each ``__NAME__`` replaced: the
    layout's names (``__STAT_FIELDS__``, ``__ALERT_WINDOW_FIELDS__``: Lua string lists;
    ``__FIELD_SEP__``, ``__OFFSET_RESETS__``: the text inside a Lua string) and the caller's
    ``values`` (keyword ``NAME``; a sequence becomes a Lua string list). Raises
    ``ValueError`` on a placeholder left unfilled or a value the script does not use."""
    text = files("sentimon").joinpath(f"scripts/{name}.lua").read_text(encoding="utf-8")
    fill = {**_LAYOUT, **values}
    used: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in fill:
            raise ValueError(f"script {name}.lua: no value for placeholder __{key}__")
        used.add(key)
        value = fill[key]
        return str(value) if isinstance(value, str | int) else lua_strings(value)

    text = _PLACEHOLDER.sub(replace, text)
    unused = set(values) - used
    if unused:
        raise ValueError(f"script {name}.lua has no placeholder for {sorted(unused)}")
    return text


def ticker_entity(symbol: str) -> str:
    return f"ticker:{symbol}"


def sector_entity(sector: str) -> str:
    """A sector's aggregates: ``sector:Information Technology``."""
    return f"sector:{sector}"


#: Between an entity and a relevance level: ``ticker:AAPL@0.6``.
RELEVANCE_SEP = "@"


def relevance_entity(entity: str, level: float) -> str:
    """The entity holding ``entity``'s mentions of relevance ``level`` (< 1) alone:
    ``ticker:AAPL@0.6``. The entity itself counts every mention, whatever its relevance."""
    return f"{entity}{RELEVANCE_SEP}{level:.1f}"


def is_relevance_entity(entity: str) -> bool:
    return RELEVANCE_SEP in entity


def kind_entity(kind: str) -> str:
    return f"kind:{kind}"


class Keys:
    """Key names of one namespace."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.prefix = f"sentimon:{{{namespace}}}:"

    def hour(self, entity: str, hour_s: int) -> str:
        """Aggregate hash of ``entity`` for the hour starting at epoch second ``hour_s``."""
        return f"{self.prefix}h:{entity}:{hour_s}"

    def top(self, hour_s: int) -> str:
        """Sorted set: ticker -> posts in that hour (the volume index)."""
        return f"{self.prefix}top:{hour_s}"

    def recent(self, entity: str) -> str:
        """Capped stream of the latest scored posts of an entity."""
        return f"{self.prefix}recent:{entity}"

    def story_band(self, band: str) -> str:
        """The newest story ids with a post under LSH band key ``band`` (JSON list)."""
        return f"{self.prefix}story:b:{band}"

    def story(self, story_id: str) -> str:
        """The fingerprint of the first post of story ``story_id``."""
        return f"{self.prefix}story:f:{story_id}"

    def seen(self, post_id: str) -> str:
        """Marker of an id already counted (expires after the dedup horizon)."""
        return f"{self.prefix}seen:{post_id}"

    @property
    def offsets(self) -> str:
        """Hash ``topic:partition`` -> last offset applied to the aggregates (the fence)."""
        return f"{self.prefix}offsets"

    @property
    def dlq(self) -> str:
        """Hash topic -> messages sent to that topic's dead-letter topic."""
        return f"{self.prefix}dlq"

    @property
    def dlq_marks(self) -> str:
        """Hash ``topic:partition`` -> highest source offset whose dead letter the broker
        acknowledged, and ``topic:partition|pending`` -> ``offset:epoch_ms`` reserved
        before a publish (``consumers.dlq_once``: each dead letter published once)."""
        return f"{self.prefix}dlq:marks"

    @property
    def stats(self) -> str:
        """Hash of pipeline counters (``COUNTERS``): records, scored, batches, dlq, ..."""
        return f"{self.prefix}stats"

    @property
    def meta(self) -> str:
        """Hash: ``watermark_ms`` (max event time seen), ``model`` (``META_*``); a backtest's
        run description (status, summary, ...) in a backtest namespace."""
        return f"{self.prefix}meta"

    @property
    def health(self) -> str:
        """Hash ``consumer-id`` -> JSON health snapshot (lag, throughput) of each consumer."""
        return f"{self.prefix}health"

    @property
    def model_health(self) -> str:
        """Hash: the model-health summary (``sentimon.health_window.summary_fields``)."""
        return f"{self.prefix}model_health"

    # --- alerts (sentimon.alerts; documented in docs/ALERTS.md) -----------------------
    @property
    def alerts(self) -> str:
        """Stream: the alert history the dashboard reads, one entry per alert event.

        Written by the alert hook in the same atomic write as the aggregates that caused
        the event (exactly once). Fields: ``event`` (event id, also the webhooks'
        Idempotency-Key), ``id`` (alert id), ``status`` (firing|resolved), ``rule``,
        ``kind``, ``severity``, ``entity``, ``ts`` (event time, epoch ms), ``notify``
        (``1`` if it was queued for delivery, ``0`` if muted or not sent), ``muted`` (empty,
        ``silence:<id>`` or ``inhibited:<alert id>``) and ``payload`` (the full JSON).
        """
        return f"{self.prefix}alerts"

    @property
    def alert_state(self) -> str:
        """Hash ``<rule>|<entity>`` -> JSON lifecycle of that pair's alert (ok/firing, ids,
        times). Written only on transitions, guarded by the value read."""
        return f"{self.prefix}alerts:state"

    def alert_window(self, entity: str, window_s: int, block: int) -> str:
        """Hash of exact per-window sums the alert baselines are computed from: fields
        ``<i>:n <i>:s <i>:ss`` (``window_field``, ``ALERT_WINDOW_FIELDS``) of tumbling
        ``window_s`` windows ``i`` in ``block`` (i // ``ALERT_WINDOW_BLOCK``)."""
        return f"{self.prefix}alerts:w:{window_s}:{entity}:{block}"

    @property
    def alert_open(self) -> str:
        """Hash ``<rule>|<entity>`` -> JSON summary of each alert now firing."""
        return f"{self.prefix}alerts:open"

    @property
    def alert_outbox(self) -> str:
        """Stream of notifications to deliver (consumer group ``dispatch``). Fields:
        ``event`` (event id), ``payload`` (JSON), optional ``sinks`` (comma list, redrive)."""
        return f"{self.prefix}alerts:outbox"

    @property
    def alert_delivery(self) -> str:
        """Hash ``<outbox entry id>|<sink>`` -> JSON progress of an unacknowledged delivery."""
        return f"{self.prefix}alerts:delivery"

    @property
    def alert_silences(self) -> str:
        """Hash silence id -> JSON (matchers, reason, created_ms, expires_ms, by)."""
        return f"{self.prefix}alerts:silences"

    def alert_dead(self, sink: str) -> str:
        """List of notifications sink ``sink`` gave up on, newest first, with the last error."""
        return f"{self.prefix}alerts:dead:{sink}"

    def alert_group(self, gid: str) -> str:
        """String: JSON of one routed alert group (``sentimon.alerts.grouping.Group``)."""
        return f"{self.prefix}alerts:group:{gid}"

    @property
    def alert_groups(self) -> str:
        """Sorted set: alert group id -> when (wall ms) the dispatcher next looks at it."""
        return f"{self.prefix}alerts:groups"

    def alert_resend(self, sink: str) -> str:
        """Hash alert id -> JSON (postable alert, last sent, resolved) of the alerts sink
        ``sink`` re-sends while they fire (``sentimon.alerts.resend_state``)."""
        return f"{self.prefix}alerts:resend:{sink}"

    def pattern(self) -> str:
        """Glob matching every key of the namespace (for clearing a backtest)."""
        return f"{self.prefix}*"
