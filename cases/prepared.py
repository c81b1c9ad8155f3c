"""Prepared statements on PostgreSQL: a read the server has planned once is not planned again.

The pages' reads are small: PostgreSQL spent longer planning them than running them (the
household list's page of rows: 0.42 ms planning, 0.20 ms running; the account's read 0.24 of
0.36). psycopg2 sends every statement as text, to be planned anew. Here a statement is
prepared (PREPARE) the first time a connection runs it and executed by name (EXECUTE) after;
after five runs the server may keep one generic plan (its own rule, `plan_cache_mode`). This is
what psycopg 3 and the JDBC driver do by themselves.

- `run(connection, sql, params, execute)`: the statements of `cases.compiled`, always.
- `PrepareReads`: an execute wrapper (the middleware `PreparedReadsMiddleware` puts it round
  each request) that prepares the SELECTs the ORM sends outside a transaction, from a plain
  cursor (not a server-side one, which declares a cursor for the statement).

The first run sends PREPARE and EXECUTE in one statement, so a page counts the same queries
whether or not its connection had prepared them. Names are never reused in a process: a run
that fails may or may not have prepared its statement, and is simply prepared anew under a new
name next time. A connection keeps at most `LIMIT` statements, the least recently used is
deallocated. A read the server cannot prepare (a parameter whose type it cannot infer) is run
as text, and not tried again on that connection. Settings: PREPARED_STATEMENTS (on; turn it
off behind a pooler that hands each transaction another connection, such as PgBouncer in
transaction mode).
"""

from __future__ import annotations

import itertools
import re
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError

LIMIT = 256
_NAMES = itertools.count(1)
_PLACEHOLDER = re.compile("%s")


class _Statements:
    """What one database connection has prepared: SQL -> name, least recently used first."""

    def __init__(self, raw):
        self.raw = raw
        self.names: OrderedDict[str, str] = OrderedDict()
        self.refused: set[str] = set()


def _statements(connection) -> _Statements:
    connection.ensure_connection()
    state = connection.__dict__.get("_dibao_statements")
    if state is None or state.raw is not connection.connection:  # a new connection
        state = connection.__dict__["_dibao_statements"] = _Statements(connection.connection)
    return state


def enabled(connection) -> bool:
    return connection.vendor == "postgresql" and getattr(settings, "PREPARED_STATEMENTS", True)


def run(connection, sql: str, params, execute: Callable[[str], object], fall_back: Callable[[], object] | None = None):
    """`execute(statement)` with the statement that runs `sql` prepared (see the module); `sql`
    itself when it cannot be (another database, the setting off, a literal % in it). If the
    prepared run fails and `fall_back` is given, the connection does not try `sql` again and
    `fall_back()` runs it as text."""
    count = sql.count("%s")
    if not enabled(connection) or sql.count("%") != count:
        return execute(sql)
    state = _statements(connection)
    if sql in state.refused:
        return execute(sql)
    arguments = f" ({', '.join(['%s'] * count)})" if count else ""
    name = state.names.get(sql)
    if name is not None:
        state.names.move_to_end(sql)
        return execute(f"EXECUTE {name}{arguments}")
    name = f"dibao_{next(_NAMES)}"
    evict = ""
    if len(state.names) >= LIMIT:
        _old_sql, old = state.names.popitem(last=False)
        evict = f"DEALLOCATE {old}; "
    numbers = itertools.count(1)
    numbered = _PLACEHOLDER.sub(lambda _m: f"${next(numbers)}", sql)
    try:
        result = execute(f"{evict}PREPARE {name} AS {numbered}; EXECUTE {name}{arguments}")
    except DatabaseError:
        if fall_back is None:
            raise
        state.refused.add(sql)
        return fall_back()
    state.names[sql] = name
    return result


class PrepareReads:
    """An execute wrapper (`connection.execute_wrapper`): the SELECTs sent outside a transaction
    from a plain cursor run prepared. Inside a transaction a statement the server refused to
    prepare would abort the transaction; a server-side cursor declares its statement."""

    def __call__(self, execute, sql, params, many, context):
        connection, cursor = context["connection"], context["cursor"]
        if (
            many
            or connection.in_atomic_block
            or not sql.startswith("SELECT")
            or getattr(cursor.cursor, "name", None)
            or not enabled(connection)
        ):
            return execute(sql, params, many, context)
        return run(
            connection,
            sql,
            params,
            lambda statement: execute(statement, params, many, context),
            fall_back=lambda: execute(sql, params, many, context),
        )
