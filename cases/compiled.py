"""Reads by statements compiled once per process, for the hottest pages (a survey's page).

Django compiles a queryset's SQL anew each time it runs it; for the small reads of one page
(a survey with its campaign, household and village; its rows of seven kinds) compiling took
longer than the database took to answer. These helpers compile (or write) a statement once, keep
it, and build the model instances as the ORM would, with the database's values converted by the
same converters the ORM applies. On PostgreSQL they run as prepared statements (cases.prepared).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections
from django.db.models import Model

from . import prepared

# (model, lookup, database alias) -> SQL
_ROW_STATEMENTS: dict[tuple, str] = {}


def rows_of(model: type[Model], lookup: str, value) -> list:
    """`model.objects.filter(**{lookup: value})`, in the model's ordering, as a list, for a
    lookup of one value (a foreign key: a survey's rows of one kind). The statement is the ORM's
    own, run through raw()."""
    manager = model._default_manager
    key = (model, lookup, manager.db)
    sql = _ROW_STATEMENTS.get(key)
    if sql is None:
        sql, params = manager.filter(**{lookup: 0}).query.sql_with_params()
        if list(params) != [0]:
            raise ValueError(f"{model.__name__}.{lookup}: one parameter expected, got {params!r}")
        _ROW_STATEMENTS[key] = sql
    return prepared.run(connections[manager.db], sql, [value], lambda statement: list(manager.raw(statement, [value])))


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
    columns, converters, attnames = [], [], []
    for index, table in enumerate(tables):
        fields = table.model._meta.concrete_fields
        attnames.append(tuple(f.attname for f in fields))
        for f in fields:
            columns.append(f"t{index}.{quote(f.column)}")
            column = f.get_col(table.model._meta.db_table)
            functions = connection.ops.get_db_converters(column) + f.get_db_converters(connection)
            converters.append((tuple(functions), column))
    # every name below is a table or column name from the models, quoted, or the caller's
    # expressions and conditions (written from the models' metadata too); values are parameters
    sql = (
        f"SELECT {', '.join([*columns, *(f'({expression})' for _name, expression in extra)])}"  # noqa: S608
        f" FROM {quote(model._meta.db_table)} t0 {' '.join(joins)} WHERE {where}"
    )
    return _Plan(sql, tuple(tables), tuple(converters), tuple(attnames), tuple(name for name, _e in extra))


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

    def run(statement: str):
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return [cursor.fetchone()] if one else cursor.fetchall()

    return [_objects(plan, row, connection, alias) for row in prepared.run(connection, plan.sql, params, run) if row]


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
