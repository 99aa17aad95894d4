"""Where things are in a rules file: line numbers for errors ``tomllib`` cannot place.

``tomllib`` reports lines only for syntax errors. For semantic ones the text is scanned
for the ``[defaults]`` table, each ``[[rule]]`` header and the ``key =`` lines below them,
so an error can name the line of the offending key, or of its table when the key is
missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sentimon.errors import ConfigError

_HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")
_KEY_RE = re.compile(r'^\s*(?:"([^"]+)"|([A-Za-z0-9_-]+))\s*=')


@dataclass
class Table:
    line: int
    keys: dict[str, int] = field(default_factory=dict)
    #: sub-tables of a ``[[rule]]`` (``[rule.labels]`` -> "labels")
    subtables: dict[str, Table] = field(default_factory=dict)


@dataclass
class Locations:
    """Where each top-level key, the ``[defaults]`` table and each ``[[rule]]`` start."""

    top: Table = field(default_factory=lambda: Table(1))
    defaults: Table | None = None
    rules: list[Table] = field(default_factory=list)
    #: any other header (``route``, ``route.routes``, ``receiver``, ...) -> its tables in
    #: file order (``next_table`` hands them out in that order)
    tables: dict[str, list[Table]] = field(default_factory=dict)

    @classmethod
    def scan(cls, text: str) -> Locations:
        found = cls()
        current: Table | None = found.top
        for number, raw in enumerate(text.splitlines(), start=1):
            header = _HEADER_RE.match(raw)
            if header:
                current = found._open(header.group(1), header.group(2), number)
                continue
            key = _KEY_RE.match(raw)
            if key and current is not None:
                current.keys.setdefault(key.group(1) or key.group(2), number)
        return found

    def _open(self, bracket: str, name: str, number: int) -> Table | None:
        table = Table(number)
        if bracket == "[[" and name == "rule":
            self.rules.append(table)
            return table
        if bracket == "[" and name == "defaults":
            self.defaults = table
            return table
        if name.startswith("rule.") and self.rules:
            self.rules[-1].subtables[name.removeprefix("rule.")] = table
            return table
        self.tables.setdefault(name, []).append(table)
        return table

    def next_table(self, name: str, fallback: Table) -> Table:
        """The next unclaimed ``[name]``/``[[name]]`` table (``fallback`` when there is
        none: an inline table has no header of its own)."""
        found = self.tables.get(name)
        return found.pop(0) if found else fallback


class Errors:
    """Builds ConfigErrors that name the file, the line and the field."""

    def __init__(self, source: str, where: Locations) -> None:
        self.source = source
        self.where = where

    def fail(self, table: Table, what: str, key: str | None, problem: str) -> ConfigError:
        line = table.keys.get(key, table.line) if key else table.line
        field_part = f" field {key!r}" if key else ""
        return ConfigError(f"alert rules {self.source}, line {line}: {what}{field_part}: {problem}")
