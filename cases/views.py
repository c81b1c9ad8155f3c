from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import roles, services
from .access import get_current_campaign, get_household_for_user, get_member_for_user
from .audit import display_changes
from .forms import (
    AccountForm,
    CampaignForm,
    HeadForm,
    HouseholdForm,
    MemberForm,
    MemberStatusForm,
    NewMemberForm,
    PhaseDatesForm,
    ReasonForm,
    apply_domain_error,
)
from .idnumber import mask_id
from .importer import (
    ColumnMapping,
    ImportFileError,
    Table,
    build_template,
    check_table,
    mapping_from_form,
    mapping_page,
    match_headers,
    posted_headers,
    read_table,
)
from .lists import (
    CompiledNewestFirst,
    CountedPaginator,
    NewestFirst,
    all_households,
    household_queryset,
    households_in_area,
    live_members,
    page_size,
    registry_count,
    several_villages,
    unfiltered_area,
    url_maker,
)
from .models import AuditEvent, Household, Member, Town, Village
from .responses import conflict


@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


@dataclass(frozen=True)
class HouseholdRow:
    """One line of the list, which writes its own markup: through the template's tags, a page
    of thirty rows took a tenth of the page's time."""

    url: str
    head_name: str
    masked_id: str
    place: str
    size: int
    summary: str
    labels: list[str]

    def markup(self) -> SafeString:
        summary = f" · {escape(self.summary)}" if self.summary else ""
        badges = "".join(
            f'<span class="badge text-bg-light border me-1">{escape(label)}</span>' for label in self.labels
        )
        return mark_safe(  # noqa: S308 - every value is escaped
            f'<a class="list-group-item list-group-item-action household-card" href="{escape(self.url)}">'
            f'<div class="d-flex justify-content-between"><strong>{escape(self.head_name)}</strong>'
            f'<span class="small text-muted">{escape(self.place)}</span></div>'
            f'<div class="small"><span class="id-number">{escape(self.masked_id)}</span> · {self.size}人{summary}</div>'
            f"<div>{badges}</div></a>"
        )


LIST_FIELDS = ("id", "public_id", "village__name", "group__name", "covered_persons", "monthly_amount")


def household_rows(households: list[dict]) -> list[SafeString]:
    """Rows from values() of the page's households and one query for their live members:
    a page of the list builds no model instances."""
    detail = url_maker("household_detail")
    live = defaultdict(list)
    for household_id, *member in live_members([h["id"] for h in households], ("name", "id_number", "relationship")):
        live[household_id].append(member)
    rows = []
    for h in households:
        head = next((m for m in live[h["id"]] if m[2] == Member.Relationship.HEAD), None)
        in_dibao = h["dibao_status"] == Household.DibaoStatus.ACTIVE
        rows.append(
            HouseholdRow(
                url=detail(h["public_id"]),
                head_name=head[0] if head else "（无户主）",
                masked_id=mask_id(head[1]) if head else "",
                place=" ".join(filter(None, [h["village__name"], h["group__name"]])),
                size=len(live[h["id"]]),
                summary=f"保障{h['covered_persons']}人 · 每月{h['monthly_amount']}元" if in_dibao else "",
                labels=Household.labels_for(h),
            ).markup()
        )
    return rows


@login_required
def household_list(request):
    form, qs = household_queryset(request.user, request.GET)
    # Unfiltered, the total is read from the registry's tallies and the page by a statement
    # compiled once; filtered, counted without the joins the rows need (a count over joins
    # grows with the town). The page's rows, newest first, in one query.
    fields = [*LIST_FIELDS, *Household.LABEL_FIELDS]
    area = unfiltered_area(request.user, form)
    if area is None:
        count = qs.count()
        rows = NewestFirst(qs, fields, count=count)
    else:
        count = registry_count(area)
        rows = CompiledNewestFirst(households_in_area, all_households, area, fields, count=count)
    page = CountedPaginator(rows, page_size(), count=count).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/household_list.html",
        {
            "form": form,
            "page": page,
            "rows": household_rows(list(page)),
            "query": query.urlencode(),
            "several_villages": several_villages(request.user),
        },
    )


# The higher levels' checks of a household: a village must not learn in advance which of
# its households will be re-visited, nor why.
HIGHER_LEVEL_CHECKS = ["surveys.Sample", "surveys.SampleEntry", "surveys.Revisit", "surveys.Difference"]


def _timeline(household, user):
    events = AuditEvent.objects.filter(household=household)
    if roles.village_scope(user) is not None:
        events = events.exclude(model__in=HIGHER_LEVEL_CHECKS)
    events = events.select_related("actor__profile").order_by("-at", "-id")[:200]
    return [(e, display_changes(e)) for e in events]


def _detail(request, household, *, show_ids: bool):
    prefetch_related_objects([household], "members")
    members = list(household.members.all())
    return render(
        request,
        "cases/household_detail.html",
        {
            "household": household,
            "members": [m for m in members if m.is_live],
            "former_members": [m for m in members if not m.is_live],
            "timeline": _timeline(household, request.user),
            "show_ids": show_ids,
            "can_reveal": roles.can_read_full_ids(request.user),
        },
    )


@login_required
@require_GET
def household_detail(request, public_id):
    household = get_household_for_user(request, public_id)
    return _detail(request, household, show_ids=False)


@login_required
@require_POST
def household_reveal_ids(request, public_id):
    household = get_household_for_user(request, public_id)
    roles.require(roles.can_read_full_ids(request.user))
    services.reveal_id_numbers(household, actor=request.user)
    return _detail(request, household, show_ids=True)


@login_required
@require_http_methods(["GET", "POST"])
def household_create(request):
    roles.require(roles.can_write_registry(request.user))
    villages = Village.objects.visible_to(request.user)
    form = HouseholdForm(request.POST or None, villages=villages)
    head_form = HeadForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and head_form.is_valid():
        try:
            household = services.create_household(
                actor=request.user,
                data=form.cleaned_data,
                head={
                    "name": head_form.cleaned_data["head_name"],
                    "id_number": head_form.cleaned_data["head_id_number"],
                },
            )
        except services.DomainError as exc:
            target = head_form if exc.field == "id_number" else form
            if target is head_form:
                head_form.add_error("head_id_number", exc.message)
            else:
                apply_domain_error(form, exc)
        else:
            messages.success(request, "已登记新家庭，请补充家庭成员。")
            return redirect("household_detail", public_id=household.public_id)
    return render(request, "cases/household_form.html", {"form": form, "head_form": head_form})


@login_required
@require_http_methods(["GET", "POST"])
def household_edit(request, public_id):
    household = get_household_for_user(request, public_id, write=True)
    form = HouseholdForm(request.POST or None, instance=household, villages=Village.objects.visible_to(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_household(
                household, actor=request.user, data=form.cleaned_data, version=form.cleaned_data["seen_version"]
            )
        except services.StaleEdit as exc:
            return conflict(request, exc, back_url=reverse("household_edit", args=[household.public_id]))
        except services.DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "家庭信息已保存。")
            return redirect("household_detail", public_id=household.public_id)
    return render(request, "cases/household_form.html", {"form": form, "household": household})


@login_required
@require_http_methods(["GET", "POST"])
def member_add(request, public_id):
    household = get_household_for_user(request, public_id, write=True)
    form = NewMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        joined_on, reason = data.pop("joined_on"), data.pop("reason")
        try:
            services.add_member(household, actor=request.user, data=data, joined_on=joined_on, reason=reason)
        except services.DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已新增成员{data['name']}。")
            return redirect("household_detail", public_id=household.public_id)
    return render(request, "cases/member_form.html", {"form": form, "household": household, "adding": True})


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request, public_id):
    member = get_member_for_user(request, public_id, write=True)
    household = member.household
    if not member.is_live:
        messages.error(request, "该成员已不在户，不能修改。")
        return redirect("household_detail", public_id=household.public_id)
    form = MemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_member(
                member, actor=request.user, data=form.cleaned_data, version=form.cleaned_data["seen_version"]
            )
        except services.StaleEdit as exc:
            return conflict(request, exc, back_url=reverse("member_edit", args=[member.public_id]))
        except services.DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"{member.name}的信息已保存。")
            return redirect("household_detail", public_id=household.public_id)
    return render(request, "cases/member_form.html", {"form": form, "household": household, "member": member})


@login_required
@require_http_methods(["GET", "POST"])
def member_change(request, public_id):
    member = get_member_for_user(request, public_id, write=True)
    household = member.household
    if not member.is_live:
        messages.error(request, "该成员已不在户。")
        return redirect("household_detail", public_id=household.public_id)
    form = MemberStatusForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.change_member_status(
                member,
                actor=request.user,
                status=data["status"],
                on=data["on"],
                reason=data["reason"],
                new_head=data.get("new_head"),
            )
        except services.DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已记录{member.name}的变动。")
            return redirect("household_detail", public_id=household.public_id)
    return render(request, "cases/member_change.html", {"form": form, "household": household, "member": member})


# --- campaign ------------------------------------------------------------------


def campaign_history(campaign, user):
    """The campaign's own events: its settings and phases for everyone; the other town-level
    events (village reports, list changes) only for roles that see the whole town."""
    events = AuditEvent.objects.filter(campaign=campaign, household__isnull=True)
    if roles.village_scope(user) is not None:
        events = events.filter(model__in=["cases.Campaign", "cases.Phase"])
    return events.select_related("actor__profile").order_by("-at", "-id")


@login_required
@require_GET
def campaign_detail(request):
    campaign = get_current_campaign(request)
    work_groups = campaign.work_groups.prefetch_related("villages", "members")
    return render(
        request,
        "cases/campaign_detail.html",
        {
            "campaign": campaign,
            "phases": campaign.phases.all(),
            "leaders": campaign.leaders.all(),
            "work_groups": work_groups,
            "history": campaign_history(campaign, request.user)[:50],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request):
    campaign = get_current_campaign(request, write=True)
    form = CampaignForm(request.POST or None, instance=campaign)
    phase_form = PhaseDatesForm(request.POST or None, phases=campaign.phases.all())
    if request.method == "POST" and form.is_valid() and phase_form.is_valid():
        try:
            services.update_campaign(
                campaign,
                actor=request.user,
                data=form.cleaned_data,
                phase_dates=phase_form.dates(),
                reason=form.cleaned_data.get("reason", ""),
                version=form.cleaned_data["seen_version"],
            )
        except services.StaleEdit as exc:
            return conflict(request, exc, back_url=reverse("campaign_edit"))
        except services.DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, "行动设置已保存。")
            return redirect("campaign_detail")
    return render(request, "cases/campaign_form.html", {"form": form, "phase_form": phase_form})


# --- import --------------------------------------------------------------------


@login_required
@require_GET
def import_template(request):
    roles.require(roles.can_edit_campaign(request.user))
    response = HttpResponse(
        build_template(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        "attachment; filename*=UTF-8''%E4%BD%8E%E4%BF%9D%E8%8A%B1%E5%90%8D%E5%86%8C%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_roll(request):
    """Upload, then (only when a needed column is not recognised) map the columns, then check and save.

    The mapping page asks for the file again with the choices instead of keeping
    the first upload: a roll full of ID numbers is never stored on the server
    between two requests, so there is nothing to scope to the user or clean up.
    """
    roles.require(roles.can_edit_campaign(request.user))
    campaign = get_current_campaign(request)
    if request.method == "GET":
        return render(request, "cases/import.html", {})
    mapping_step = request.POST.get("step") == "mapping"
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ImportFileError("请选择要导入的 .xlsx 文件。")
        table = read_table(upload)
    except ImportFileError as exc:
        headers = posted_headers(request.POST) if mapping_step else None
        if headers is None:
            return render(request, "cases/import.html", {"file_error": str(exc)}, status=400)
        # Keep the user's choices while they pick the file again.
        table = Table(header_rows=(), headers=headers, rows=[])
        mapping, _ = mapping_from_form(request.POST, headers)
        return _import_mapping(request, table, mapping, file_error=str(exc), status=400)
    if mapping_step and posted_headers(request.POST) != table.headers:
        mapping, problems = match_headers(table.headers), ["所选文件的表头与上一步的不同，请重新确认各列的对应关系。"]
    elif mapping_step:
        mapping, problems = mapping_from_form(request.POST, table.headers)
    else:
        mapping, problems = match_headers(table.headers), []
        if not mapping.complete:
            return _import_mapping(request, table, mapping)
    if problems:
        return _import_mapping(request, table, mapping, problems=problems, status=400)
    check = check_table(table, mapping, town=campaign.town)
    context = {"check": check}
    if check.ok:
        try:
            context["counts"] = services.import_roll(check, actor=request.user, filename=upload.name)
        except services.DomainError as exc:
            context["file_error"] = exc.message
    if "counts" not in context and mapping_step:
        # The user fixes the file and sends it again with the same choices.
        return _import_mapping(request, table, mapping, status=400, **context)
    return render(request, "cases/import.html", context, status=200 if "counts" in context else 400)


def _import_mapping(request, table: Table, mapping: ColumnMapping, *, status: int = 200, **context):
    context.update(mapping_page(table, mapping))
    return render(request, "cases/import_mapping.html", context, status=status)


# --- accounts -----------------------------------------------------------------------


class Login(auth_views.LoginView):
    """The sign-in page; attempts for one account are checked one at a time (see lock_account)."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        # whose system this is: the town running a campaign, or the county of several
        running = set(Town.objects.filter(campaigns__is_active=True).values_list("county", "name").distinct())
        counties = {county for county, _town in running}
        name = next(iter(running))[1] if len(running) == 1 else next(iter(counties)) if len(counties) == 1 else ""
        return {**super().get_context_data(**kwargs), "system_owner": name}

    def post(self, request, *args, **kwargs):
        with transaction.atomic():
            services.lock_account(request.POST.get("username", "")[:150])
            return super().post(request, *args, **kwargs)


class OwnPasswordForm(PasswordChangeForm):
    def clean_new_password1(self):
        password = self.cleaned_data["new_password1"]
        if self.user.check_password(password):
            # otherwise a password someone else set would stay, only no longer flagged
            raise ValidationError("新密码不能与原密码相同。")
        return password


class PasswordChange(auth_views.PasswordChangeView):
    """Change one's own password; ends the forced change after a reset or a new account."""

    form_class = OwnPasswordForm

    def get_context_data(self, **kwargs):
        profile = roles.profile_of(self.request.user)
        return super().get_context_data(**kwargs, must_change=bool(profile and profile.must_change_password))

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(self.request.user)
        messages.success(self.request, "密码已修改。")
        return response


def _managed_user(request, username):
    """An account the user may manage (404 for others alike)."""
    allowed = services.manageable_roles(request.user)
    if not allowed:
        roles.require(False)
    user = (
        get_user_model()
        .objects.filter(username=username, profile__in=services.managed_profiles(request.user))
        .exclude(pk=request.user.pk)
        .select_related("profile")
        .first()
    )
    if user is None:
        raise Http404("没有找到该账号。")
    return user


@login_required
@require_GET
def accounts(request):
    """Who can do what where: every account the office manages, and what each role may do."""
    allowed = services.manageable_roles(request.user)
    if not allowed:
        roles.require(False)
    profiles = (
        services.managed_profiles(request.user)
        .select_related("user", "village", "work_group")
        .order_by("role", "village__order", "work_group__number", "user__username")
    )
    return render(request, "cases/accounts.html", {"profiles": profiles, "capabilities": roles.capability_table()})


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request):
    allowed = services.manageable_roles(request.user)
    if not allowed:
        roles.require(False)
    campaign = get_current_campaign(request)
    form = AccountForm(request.POST or None, roles_allowed=allowed, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            # the new account works in the town the creator works in (the county's: the one chosen)
            user, password = services.create_account(actor=request.user, town=campaign.town, **form.cleaned_data)
        except services.DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return render(request, "cases/account_password.html", {"account": user, "password": password, "new": True})
    return render(request, "cases/account_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def account_reset(request, username):
    user = _managed_user(request, username)
    password = services.reset_password(user, actor=request.user)
    return render(request, "cases/account_password.html", {"account": user, "password": password, "new": False})


@login_required
@require_POST
def account_active(request, username):
    user = _managed_user(request, username)
    form = ReasonForm(request.POST)
    active = request.POST.get("active") == "1"
    if not form.is_valid():
        messages.error(request, "请填写停用或启用账号的原因。")
    else:
        services.set_account_active(user, actor=request.user, active=active, reason=form.cleaned_data["reason"])
        messages.success(request, f"账号{user.username}已{'启用' if active else '停用'}。")
    return redirect("accounts")
