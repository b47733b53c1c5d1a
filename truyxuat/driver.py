"""Core statements run on the driver's own cursor, for the few hottest reads and writes.

A consumer scan reads its item and writes its scan; through a session, a connection and a
result, SQLAlchemy spends ten times what the database does on such one-row statements. Here
SQLAlchemy still writes the SQL (compiled once per dialect) and converts the values (each
column's own bind and result processors: UUIDs, UTC datetimes, enums), and the statement
runs on the DBAPI cursor. Anything else goes through sessions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class Compiled:
    """A statement's SQL for one dialect and how its values are converted."""

    sql: str
    order: tuple[str, ...] | None  # bind names in order, for a positional paramstyle
    binds: Mapping[str, Processor]
    results: tuple[Processor, ...]

    def params(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters for `values` (by bind name), converted."""
        converted = {
            name: value if (process := self.binds.get(name)) is None else process(value)
            for name, value in values.items()
        }
        if self.order is None:
            return converted
        return [converted[name] for name in self.order]

    def row(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """A result row with each column converted."""
        return tuple(
            value if process is None else process(value)
            for value, process in zip(row, self.results, strict=True)
        )


class DriverStatement:
    """A Core statement compiled per dialect; `binds` names the type of each bind value."""

    def __init__(self, statement: Executable, binds: Mapping[str, Any]) -> None:
        self.statement = statement
        self.bind_types = dict(binds)
        self._compiled = functools.cache(self._compile)

    def compiled(self, dialect: Dialect) -> Compiled:
        """The statement for `dialect` (compiled on first use)."""
        return self._compiled(dialect)

    def _compile(self, dialect: Dialect) -> Compiled:
        compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        binds = {
            name: kind.dialect_impl(dialect).bind_processor(dialect)
            for name, kind in self.bind_types.items()
        }
        columns: list[ColumnElement[Any]] = list(getattr(self.statement, "selected_columns", ()))
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        order = tuple(compiled.positiontup) if compiled.positiontup else None
        return Compiled(str(compiled), order, binds, results)

    def fetch_one(
        self, dialect: Dialect, dbapi_connection: Any, values: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """The first row of the statement for `values`, converted (None if no row)."""
        compiled = self.compiled(dialect)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(compiled.sql, compiled.params(values))
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else compiled.row(row)

    def execute_many(
        self, dialect: Dialect, dbapi_connection: Any, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Runs the statement once per row (one driver call for them all)."""
        compiled = self.compiled(dialect)
        cursor = dbapi_connection.cursor()
        try:
            cursor.executemany(compiled.sql, [compiled.params(row) for row in rows])
        finally:
            cursor.close()
