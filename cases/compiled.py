"""Reads by statements compiled once per process, for the hottest pages (a survey's page).

Django compiles a queryset's SQL anew each time it runs it; for the small reads of one page
(a survey with its campaign, household and village; its rows of seven kinds) compiling took
longer than the database took to answer. These helpers compile (or write) a statement once, keep
it, and build the model instances as the ORM would, with the database's values converted by the
same converters the ORM applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections
from django.db.models import Model

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
    return list(manager.raw(sql, [value]))


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
class _Table:
    model: type[Model]
    parent: int | None  # index of the table whose foreign key joins this one
    field: object | None  # that foreign key
    width: int  # how many columns of the row are this table's


@dataclass(frozen=True)
class _Plan:
    sql: str
    tables: tuple[_Table, ...]
    converters: tuple[tuple, ...]  # per column: (converters, column expression)
    attnames: tuple[tuple[str, ...], ...]


_PLANS: dict[tuple, _Plan] = {}


def _plan(model: type[Model], field: str, related: Sequence[str], alias: str) -> _Plan:
    connection = connections[alias]
    quote = connection.ops.quote_name
    tables = [_Table(model, None, None, len(model._meta.concrete_fields))]
    names = {(): 0}  # a path of foreign keys -> its table's index
    optional = [False]  # per table: reached through a key that may be empty (a LEFT JOIN)
    joins = []
    for path in related:
        parts = path.split("__")
        for depth in range(1, len(parts) + 1):
            key = tuple(parts[:depth])
            if key in names:
                continue
            parent = names[key[:-1]]
            fk = tables[parent].model._meta.get_field(key[-1])
            if not (fk.many_to_one or fk.one_to_one) or not fk.concrete:
                raise ValueError(f"{model.__name__}: {path} is no forward foreign key")
            target = fk.related_model
            names[key] = len(tables)
            tables.append(_Table(target, parent, fk, len(target._meta.concrete_fields)))
            optional.append(fk.null or optional[parent])
            joins.append(
                (
                    "LEFT" if optional[-1] else "INNER",
                    f"{quote(target._meta.db_table)} t{names[key]}",
                    f"t{names[key]}.{quote(fk.target_field.column)} = t{parent}.{quote(fk.column)}",
                )
            )
    columns, converters, attnames = [], [], []
    for index, table in enumerate(tables):
        fields = table.model._meta.concrete_fields
        attnames.append(tuple(f.attname for f in fields))
        for f in fields:
            columns.append(f"t{index}.{quote(f.column)}")
            column = f.get_col(table.model._meta.db_table)
            functions = connection.ops.get_db_converters(column) + f.get_db_converters(connection)
            converters.append((tuple(functions), column))
    lookup = model._meta.get_field(field)
    # every name below is a table or column name from the models, quoted; the value is a parameter
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(model._meta.db_table)} t0 "  # noqa: S608
        + " ".join(f"{kind} JOIN {table} ON {on}" for kind, table, on in joins)
        + f" WHERE t0.{quote(lookup.column)} = %s"
    )
    return _Plan(sql, tuple(tables), tuple(converters), tuple(attnames))


def one_with_related(model: type[Model], field: str, value, related: Sequence[str] = ()) -> Model | None:
    """`model.objects.select_related(*related).filter(**{field: value}).first()` for a unique
    `field`, by a statement written once from the models' metadata: the row with its related rows
    (forward foreign keys, joined; an optional key's missing row is None), or None."""
    alias = model._default_manager.db
    key = (model, field, tuple(related), alias)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _plan(model, field, related, alias)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [lookup_value(model, field, value, connection)])
        row = cursor.fetchone()
    if row is None:
        return None
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
        if table.parent is not None and objects[table.parent] is not None:
            table.field.set_cached_value(objects[table.parent], objects[-1])
    return objects[0]


def lookup_value(model: type[Model], field: str, value, connection):
    """`value` as the database takes it for `field` (a UUID on SQLite is stored as hex text)."""
    return model._meta.get_field(field).get_db_prep_value(value, connection, prepared=False)
