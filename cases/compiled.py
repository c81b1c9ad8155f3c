"""Reads by statements compiled once per process, for the hottest pages (a survey's page).

Django compiles a queryset's SQL anew each time it runs it; for the small reads of one page
(a survey with its campaign, household and village; its rows of seven kinds) compiling took
longer than the database took to answer. These helpers compile (or write) a statement once, keep
it, and build the model instances as the ORM would, with the database's values converted by the
same converters the ORM applies. On PostgreSQL they run as prepared statements (cases.prepared).
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass

from django.db import connections
from django.db.models import Model

from . import prepared

# (model, lookup, database alias) -> how to read the rows
_ROW_STATEMENTS: dict[tuple, _Plan] = {}


def rows_of(model: type[Model], lookup: str, value) -> list:
    """`model.objects.filter(**{lookup: value})`, in the model's ordering, as a list, for a
    lookup of one value (a foreign key: a survey's rows of one kind). The statement is the ORM's
    own; its rows become instances as in one_with_related (through raw() a read took twice as
    long)."""
    manager = model._default_manager
    alias = manager.db
    key = (model, lookup, alias)
    plan = _ROW_STATEMENTS.get(key)
    if plan is None:
        plan = _ROW_STATEMENTS[key] = _rows_plan(manager.filter(**{lookup: 0}), alias)
    connection = connections[alias]
    rows = prepared.run(connection, plan.sql, [value], _fetch(connection, [value]))
    return [_objects(plan, row, connection, alias) for row in rows]


def _fetch(connection, params, *, one: bool = False) -> Callable[[str], list]:
    """A statement's rows, run with `params` (for prepared.run, which chooses the statement)."""

    def run(statement: str) -> list:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return [cursor.fetchone()] if one else cursor.fetchall()

    return run


def _rows_plan(queryset, alias: str) -> _Plan:
    """The plan of a queryset of one parameter that selects its model's columns and no other."""
    model = queryset.model
    sql, params = queryset.query.sql_with_params()
    if list(params) != [0]:
        raise ValueError(f"{model.__name__}: one parameter expected, got {params!r}")
    compiler = queryset.query.get_compiler(alias)
    compiler.setup_query()
    fields = model._meta.concrete_fields
    if [column.target for column, _sql, _alias in compiler.select] != list(fields):
        raise ValueError(f"{model.__name__}: the statement does not select the model's columns in order")
    table = _Table(model, None, None, len(fields))
    converters, attnames = _columns([table], connections[alias])
    return _Plan(sql, (table,), converters, attnames, ())


def prefetched(instance: Model, name: str, rows: list, **back) -> None:
    """Give `instance.<name>.all()` these rows, as prefetch_related does; each row's foreign key
    back to `instance` (`back`) is set too."""
    for row in rows:
        for field, value in back.items():
            setattr(row, field, value)
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache.pop(name, None)
    queryset = getattr(instance, name).all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    cache[name] = queryset


@dataclass(frozen=True)
class Attached:
    """A row joined by the caller's own condition rather than by a key (the running campaign of
    a user's town): the object gets it as the attribute `name` (None when no row matches), and
    `related` may go on from it (`<name>__town`). `on` is SQL naming the joined table `{t}` and
    the others t0 (the model's), t1, ... in the order of `related`."""

    name: str
    model: type[Model]
    on: str


@dataclass(frozen=True)
class _Table:
    model: type[Model]
    parent: int | None  # index of the table this one is joined to
    field: object | None  # the key (or relation) that joins it, or an Attached's name
    width: int  # how many columns of the row are this table's


@dataclass(frozen=True)
class _Plan:
    sql: str
    tables: tuple[_Table, ...]
    converters: tuple[tuple, ...]  # per column: (converters, column expression)
    attnames: tuple[tuple[str, ...], ...]
    extra: tuple[str, ...]  # names of the extra columns after the tables' columns


_PLANS: dict[tuple, _Plan] = {}


def _join(tables: list[_Table], parent: int, name: str, attached: dict, quote) -> tuple[_Table, bool, str]:
    """The table `name` leads to from table `parent`: its _Table, whether it may be missing, and
    the join's condition."""
    index = len(tables)
    if parent == 0 and name in attached:
        join = attached[name]
        return (
            _Table(join.model, parent, name, len(join.model._meta.concrete_fields)),
            True,
            join.on.format(t=f"t{index}"),
        )
    fk = tables[parent].model._meta.get_field(name)
    target = fk.related_model
    table = _Table(target, parent, fk, len(target._meta.concrete_fields))
    if fk.concrete and (fk.many_to_one or fk.one_to_one):
        return table, fk.null, f"t{index}.{quote(fk.target_field.column)} = t{parent}.{quote(fk.column)}"
    if fk.one_to_one:  # the other side of a one-to-one key (a user's profile): may be missing
        return table, True, f"t{index}.{quote(fk.field.column)} = t{parent}.{quote(fk.field.target_field.column)}"
    raise ValueError(f"{tables[parent].model.__name__}.{name} is no foreign key or one-to-one relation")


def quoted(alias: str, model: type[Model], field: str | None = None) -> str:
    """A model's table name, or with `field` that field's column, quoted for the database `alias`
    (for statements written from the models' metadata)."""
    name = model._meta.db_table if field is None else model._meta.get_field(field).column
    return connections[alias].ops.quote_name(name)


def _plan(model: type[Model], where: str, related, extra, attached, alias: str) -> _Plan:
    """The statement and how to read its rows: `where` is its condition (and ORDER BY) in SQL."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    tables = [_Table(model, None, None, len(model._meta.concrete_fields))]
    names = {(): 0}  # a path of relations -> its table's index
    optional = [False]  # per table: it may be missing (a LEFT JOIN)
    joins = []
    for path in related:
        parts = path.split("__")
        for depth in range(1, len(parts) + 1):
            key = tuple(parts[:depth])
            if key in names:
                continue
            parent = names[key[:-1]]
            table, may_miss, on = _join(tables, parent, key[-1], {a.name: a for a in attached}, quote)
            names[key] = len(tables)
            optional.append(may_miss or optional[parent])
            joins.append(
                f"{'LEFT' if optional[-1] else 'INNER'} JOIN {quote(table.model._meta.db_table)} t{len(tables)} ON {on}"
            )
            tables.append(table)
    columns = [f"t{i}.{quote(f.column)}" for i, table in enumerate(tables) for f in table.model._meta.concrete_fields]
    converters, attnames = _columns(tables, connection)
    # every name below is a table or column name from the models, quoted, or the caller's
    # expressions and conditions (written from the models' metadata too); values are parameters
    sql = (
        f"SELECT {', '.join([*columns, *(f'({expression})' for _name, expression in extra)])}"  # noqa: S608
        f" FROM {quote(model._meta.db_table)} t0 {' '.join(joins)} WHERE {where}"
    )
    return _Plan(sql, tuple(tables), converters, attnames, tuple(name for name, _e in extra))


def _columns(tables, connection) -> tuple[tuple, tuple]:
    """Per column of the tables' rows, the converters the ORM applies to its value; per table,
    its fields' attribute names."""
    converters, attnames = [], []
    for table in tables:
        fields = table.model._meta.concrete_fields
        attnames.append(tuple(f.attname for f in fields))
        for f in fields:
            column = f.get_col(table.model._meta.db_table)
            functions = connection.ops.get_db_converters(column) + f.get_db_converters(connection)
            converters.append((tuple(functions), column))
    return tuple(converters), tuple(attnames)


def one_with_related(
    model: type[Model],
    field: str,
    value,
    related: Sequence[str] = (),
    extra: Sequence[tuple[str, str]] = (),
    attached: Sequence[Attached] = (),
) -> Model | None:
    """`model.objects.select_related(*related).filter(**{field: value}).first()` for a unique
    `field`, by a statement written once from the models' metadata: the row with its related rows
    (foreign keys and either side of a one-to-one key, joined; a missing optional row is None),
    or None. `extra`: (name, SQL expression) pairs, scalar sub-selects that may name the joined
    tables as t0 (the model's), t1, ... in the order of `related`; each becomes an attribute of
    the object, as an annotation would. `attached`: rows joined by a condition (see Attached)."""
    alias = model._default_manager.db
    params = [lookup_value(model, field, value, connections[alias])]
    rows = _read(model, f"t0.{quoted(alias, model, field)} = %s", params, related, extra, attached, one=True)
    return rows[0] if rows else None


def all_with_related(model: type[Model], where: str, params: Sequence, related: Sequence[str] = ()) -> list[Model]:
    """The rows of `model` that `where` selects, each with its related rows (as one_with_related):
    `where` is SQL naming the tables t0 (the model's), t1, ... in the order of `related`, with
    its values as %s parameters, and may end in an ORDER BY."""
    return _read(model, where, list(params), related, (), (), one=False)


def _read(model, where, params, related, extra, attached, *, one: bool) -> list[Model]:
    alias = model._default_manager.db
    key = (model, where, tuple(related), tuple(extra), tuple(attached), alias)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _plan(model, where, related, extra, attached, alias)
    connection = connections[alias]
    rows = prepared.run(connection, plan.sql, params, _fetch(connection, params, one=one))
    return [_objects(plan, row, connection, alias) for row in rows if row]


def _objects(plan: _Plan, row, connection, alias: str) -> Model:
    """The model instance of one row, with its related instances cached on it."""
    values = list(row)
    for i, (functions, column) in enumerate(plan.converters):
        for convert in functions:
            values[i] = convert(values[i], column, connection)
    objects, start = [], 0
    for table, attnames in zip(plan.tables, plan.attnames, strict=True):
        part = values[start : start + table.width]
        start += table.width
        pk_index = attnames.index(table.model._meta.pk.attname)
        present = part[pk_index] is not None
        objects.append(table.model.from_db(alias, list(attnames), part) if present else None)
        parent = objects[table.parent] if table.parent is not None else None
        if parent is None:
            continue
        if isinstance(table.field, str):
            setattr(parent, table.field, objects[-1])
            continue
        table.field.set_cached_value(parent, objects[-1])
        if not table.field.concrete and objects[-1] is not None:  # the key's own side, back
            table.field.field.set_cached_value(objects[-1], parent)
    for name, value in zip(plan.extra, values[start:], strict=True):
        setattr(objects[0], name, value)
    return objects[0]


def lookup_value(model: type[Model], field: str, value, connection):
    """`value` as the database takes it for `field` (a UUID on SQLite is stored as hex text)."""
    return model._meta.get_field(field).get_db_prep_value(value, connection, prepared=False)


@dataclass(frozen=True)
class _Statement:
    alias: str
    sql: str
    slots: tuple[int | None, ...]  # per parameter of the statement: the index of the caller's value, or None
    constants: tuple  # per parameter: the statement's own value where the slot is None
    converters: tuple  # (column index, converters, expression) for the columns that have some
    names: tuple[str, ...] | None  # values(): the keys of each row's dict; values_list(): None


_STATEMENTS: OrderedDict[tuple, _Statement] = OrderedDict()  # least recently used first
STATEMENTS_KEPT = 2000
# Stand-ins for the caller's values while the statement is compiled, to be found again among
# the compiled statement's parameters: numbers within an integer column's range (Django turns a
# lookup outside it into no condition, and the value is then missed: refused, never wrong),
# text with the characters a LIKE pattern escapes, so that a value the ORM escapes or wraps is
# missed too.
_INT_STANDIN = 1_987_650_000
_STANDIN_RANGE = range(_INT_STANDIN, _INT_STANDIN + 1_000_000)


def _standin(value, index: int):
    return _INT_STANDIN + index if isinstance(value, int) else f"\ue000%_\\{index}\ue001"


def _parameter(value) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool)


def _has_standin(value) -> bool:
    if isinstance(value, str):
        return "\ue000" in value
    return isinstance(value, int) and value in _STANDIN_RANGE


def check_builder(build: Callable) -> Callable:
    """A statement's builder must be a plain function of its arguments: a method's object or a
    closure's variables would be frozen into the statement compiled first."""
    if not inspect.isfunction(build) or build.__closure__ or build.__defaults__ or build.__kwdefaults__:
        name = getattr(build, "__qualname__", build)
        raise ValueError(f"{name}: a statement's builder may depend on its arguments only")
    return build


def values_rows(build: Callable, *values, shape: tuple = ()) -> list:
    """`list(build(*shape, *values))` for a `values()` or `values_list()` queryset, by a
    statement compiled once per call site (`build`'s code) and shape, then run with `values`
    as its parameters (prepared on PostgreSQL): building and compiling a list page's queryset
    took about as long as the database took to answer it.

    `values` are the statement's parameters: whole numbers, text, or lists of them (an IN list:
    its length is part of the shape). `build` may choose what it builds by `shape`
    (hashable values) and by which of `values` are None, True or False (part of the shape as
    well), by nothing else: it may not close over variables, and may not branch on a
    parameter's value."""
    check_builder(build)
    if any(isinstance(v, list) and not v for v in values):
        return list(build(*shape, *values))  # an empty IN list: the ORM knows there is no row
    signature, flat = [], []
    for value in values:
        if value is None or isinstance(value, bool):
            signature.append(value)
        elif isinstance(value, list):
            signature.append(len(value))
            flat.extend(value)
        else:
            signature.append(type(value))
            flat.append(value)
    key = (build.__code__, shape, tuple(signature))
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = _compile_values(build, shape, values, flat)
        while len(_STATEMENTS) > STATEMENTS_KEPT:  # a page's position is part of its shape
            with suppress(KeyError):  # another thread's eviction
                _STATEMENTS.popitem(last=False)
    else:
        with suppress(KeyError):
            _STATEMENTS.move_to_end(key)
    params = [c if slot is None else flat[slot] for slot, c in zip(statement.slots, statement.constants, strict=True)]
    connection = connections[statement.alias]
    run = _fetch(connection, params)
    if connection.in_atomic_block:  # a statement the server refused to prepare would abort it
        rows = run(statement.sql)
    else:
        rows = prepared.run(connection, statement.sql, params, run, fall_back=lambda: run(statement.sql))
    if statement.converters:
        rows = [list(row) for row in rows]
        for row in rows:
            for index, functions, expression in statement.converters:
                for convert in functions:
                    row[index] = convert(row[index], expression, connection)
    if statement.names is None:
        return [tuple(row) for row in rows]
    names = statement.names
    return [dict(zip(names, row, strict=True)) for row in rows]


def _compile_values(build: Callable, shape: tuple, values: tuple, flat: list) -> _Statement:
    """The statement of `build`'s queryset, compiled with stand-ins for the parameters."""
    if not all(_parameter(v) for v in flat):
        raise TypeError(f"{build.__qualname__}: parameters are whole numbers or text")
    standins, position = [], 0
    for value in values:
        if value is None or isinstance(value, bool):
            standins.append(value)
        elif isinstance(value, list):
            standins.append([_standin(v, position + i) for i, v in enumerate(value)])
            position += len(value)
        else:
            standins.append(_standin(value, position))
            position += 1
    queryset = build(*shape, *standins)
    iterable = queryset._iterable_class.__name__
    if iterable not in ("ValuesIterable", "ValuesListIterable"):
        raise ValueError(f"{build.__qualname__}: values() or values_list() expected, not {iterable}")
    query = queryset.query
    compiler = query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    wanted = {_standin(v, i): i for i, v in enumerate(flat)}
    slots = tuple(wanted.get(p) if _parameter(p) else None for p in params)
    if set(slots) - {None} != set(range(len(flat))) or any(
        slot is None and _has_standin(p) for slot, p in zip(slots, params, strict=True)
    ):
        raise ValueError(f"{build.__qualname__}: every value must be a parameter of the statement, as given")
    columns = [s[0] for s in compiler.select[: compiler.col_count]]
    converters = tuple(
        (index, tuple(functions), expression)
        for index, (functions, expression) in compiler.get_converters(columns).items()
    )
    names = None
    if iterable == "ValuesIterable":
        names = tuple(query.selected or [*query.extra_select, *query.values_select, *query.annotation_select])
    constants = tuple(None if slot is not None else p for slot, p in zip(slots, params, strict=True))
    return _Statement(queryset.db, sql, slots, constants, converters, names)
