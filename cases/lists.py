"""Small helpers shared by the list pages of every app."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta

from django.conf import settings
from django.core.paginator import Paginator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from . import roles
from .compiled import check_builder, values_rows
from .forms import HouseholdFilterForm
from .models import AuditEvent, Household, Member, RegistryTally, Village, id_search_kind
from .services import record_id_search

PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


class CountedPaginator(Paginator):
    """A paginator told how many rows there are (read from a tally, or counted without the rows'
    joins) instead of counting its rows itself."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


class NewestFirst(Sequence):
    """The rows of `queryset`, newest (highest `key`) first, as `values(*fields)`; a page of them
    is one query however deep it is: its keys are picked from the index alone in a sub-select,
    and only those rows of `rows` (by default every row of the model: the keys are unique) are
    joined to what they show."""

    def __init__(self, queryset, fields: Sequence[str], *, count: int, key: str = "id", rows=None):
        self.queryset, self.fields, self.count, self.key = queryset, fields, count, key
        self.rows = queryset.model._default_manager.all() if rows is None else rows

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        keys = self.queryset.order_by(f"-{self.key}").values(self.key)[index]
        return list(self.rows.filter(**{f"{self.key}__in": keys}).order_by(f"-{self.key}").values(*self.fields))


class CompiledNewestFirst(Sequence):
    """NewestFirst by a statement compiled once per page position (cases.compiled.values_rows):
    `select(*values)` is the queryset whose rows are listed, `join(*values)` the rows joined to
    what they show; both module-level functions of `values` alone."""

    def __init__(self, select, join, values: Sequence, fields: Sequence[str], *, count: int, key: str = "id"):
        self.select, self.join, self.values = check_builder(select), check_builder(join), list(values)
        self.fields, self.count, self.key = tuple(fields), count, key

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _ = index.indices(self.count)
        if start >= stop:
            return []
        # a whole page's worth at least: the last page's end moves with the count, and each end
        # would be a statement of its own
        shape = (self.select, self.join, self.fields, self.key, start, start + max(stop - start, page_size()))
        return values_rows(_newest_page, *self.values, shape=shape)[: stop - start]


def _newest_page(select, join, fields, key, start, stop, *values):
    keys = select(*values).order_by(f"-{key}").values(key)[start:stop]
    return join(*values).filter(**{f"{key}__in": keys}).order_by(f"-{key}").values(*fields)


def live_members(household_ids: list[int], fields: Sequence[str]) -> list[tuple]:
    """The live members of these households as `(household_id, *fields)`, by relationship
    (the head first) and then as registered: the list pages' rows name them."""
    return values_rows(_live_members, household_ids, shape=(tuple(fields),))


def _live_members(fields, household_ids):
    return (
        Member.objects.filter(household_id__in=household_ids, status=Member.Status.PRESENT)
        .order_by("relationship", "id")
        .values_list("household_id", *fields)
    )


class ByVillage(Sequence):
    """The rows of `queryset`, village after village in the order of `counts`, newest household
    first within each; a page of them is one query whatever the size of the town.

    `counts` are (village id, rows of `queryset` in it), read from the tallies: from them a
    page knows which villages it spans and where in the first one it starts, so the database
    reads those villages' rows by index instead of sorting the whole town to skip to it.
    """

    def __init__(self, queryset, counts: Iterable[tuple[int, int]]):
        self.queryset = queryset
        self.counts = [(v, n) for v, n in counts if n]

    def __len__(self) -> int:
        return sum(n for _, n in self.counts)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop, _ = index.indices(len(self))
        villages, skip, seen = [], 0, 0
        for village, n in self.counts:
            if seen < stop and seen + n > start:
                if not villages:
                    skip = start - seen
                villages.append(village)
            seen += n
        if not villages:
            return []
        order = ["-household_id"]
        if len(villages) > 1:
            place = [models.When(village_id=v, then=models.Value(i)) for i, v in enumerate(villages)]
            order.insert(0, models.Case(*place, output_field=models.IntegerField()))
        rows = self.queryset.filter(village_id__in=villages).order_by(*order)
        return list(rows[skip : skip + stop - start])


def several_villages(user) -> bool:
    """Whether the village filter has a choice to offer (read from the user's scope, no query)."""
    scope = roles.village_scope(user)
    return scope is None or len(scope) > 1


def page_size() -> int:
    return settings.LIST_PAGE_SIZE


def url_maker(name: str) -> Callable[[object], str]:
    """A function from a public id to the URL `name` takes it in; reverses once for a whole page of rows."""
    pattern = reverse(name, args=[PLACEHOLDER])
    return lambda public_id: pattern.replace(PLACEHOLDER, str(public_id))


def household_queryset(user, params):
    """The filter form and the scoped, filtered household list (the page and its exports).

    A search by ID number is recorded; roles that may not see full numbers search by
    the whole number or its last four digits only.
    """
    form = HouseholdFilterForm(
        params or None,
        villages=Village.objects.visible_to(user),
        may_search_id_fragments=roles.can_read_full_ids(user),
    )
    qs = Household.objects.visible_to(user)
    if not form.is_valid():
        return form, qs.none() if "q" in form.errors else qs
    kind = id_search_kind(form.cleaned_data["q"])
    if kind and not roles.can_read_full_ids(user) and id_searches_last_hour(user) >= settings.ID_SEARCHES_PER_HOUR:
        # a whole-number search answers yes or no: unlimited, it would let a masked number
        # (area code, last four digits, age shown) be completed by trying the birth dates
        form.add_error("q", "按身份证号查找过于频繁，请一小时后再试，或请镇社会事务办查找。")
        return form, qs.none()
    qs = qs.filtered(**form.cleaned_data)
    if kind:
        record_id_search(actor=user, kind=kind)
    return form, qs


def unfiltered_area(user, form) -> tuple | None:
    """When only the user's area and perhaps a village narrow the household list: the values
    that select its households (`in_area`); None when other filters apply."""
    if form.is_bound:
        if not form.is_valid():
            return None
        data = form.cleaned_data
        if data["q"] or data["category"] or data["status"]:
            return None
        village = data["village"]
    else:
        village = None
    return *roles.area_of(user), village.pk if village else None


def in_area(model, villages: list[int] | None, town: int | None, village: int | None):
    """Rows of `model` (with a `village` key) in an area (`roles.area_of`), of `village` only
    if given: the values of `unfiltered_area`."""
    rows = model._default_manager.filter(roles.area_filter(villages, town))
    return rows if village is None else rows.filter(village_id=village)


def registry_count(area: tuple) -> int:
    """How many households the unfiltered list of an area shows (`unfiltered_area`), read from
    the registry's tallies."""
    return sum(n for (n,) in values_rows(_registry_tallies, *area))


def _registry_tallies(villages, town, village):
    return in_area(RegistryTally, villages, town, village).values_list("households")


def households_in_area(villages, town, village):
    households = Household.objects.in_area(villages, town)
    return households if village is None else households.filter(village_id=village)


def all_households(*_area):
    return Household.objects.all()


def id_searches_last_hour(user) -> int:
    since = timezone.now() - timedelta(hours=1)
    return AuditEvent.objects.filter(actor=user, action=AuditEvent.Action.SEARCH_ID, at__gte=since).count()
