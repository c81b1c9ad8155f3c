"""Pages of the departments' lists (四、2): uploading a list, its flags on households and the
screening tasks against omissions (防止漏保).

Thin views over `surveys.departments`. The town office uploads lists and clears flags; the county
and the leadership group read; a village's users see the flags and tasks of their own villages
(a flag's kind, not the department's figures) and the village's cadre works its tasks.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import roles
from cases.access import get_current_campaign, public_uuid, scoped
from cases.forms import HouseholdForm, StatusFilterForm, apply_domain_error, date_field
from cases.importer import (
    ColumnMapping,
    ImportFileError,
    Table,
    mapping_from_form,
    mapping_page,
    match_headers,
    posted_headers,
    read_table,
)
from cases.lists import page_size, several_villages
from cases.models import (
    DepartmentList,
    DepartmentRecord,
    Household,
    HouseholdFlag,
    ScreeningTask,
    Village,
    VillagerGroup,
)
from cases.services import DomainError
from cases.validators import not_in_future

from . import departments
from .departments import SPECS, Spec

# --- forms ------------------------------------------------------------------------------


class ListUploadForm(forms.Form):
    """What the town says about a list it uploads; the file itself comes with it."""

    department = forms.ChoiceField(
        label="部门名单",
        choices=[("", "请选择"), *DepartmentList.Department.choices],
        error_messages={"required": "请选择部门名单。"},
    )
    source = forms.CharField(
        label="提供单位",
        max_length=100,
        help_text="如：无为县残疾人联合会、县医疗保障局",
        error_messages={"required": "请填写提供名单的单位。"},
    )
    as_of = date_field("数据日期", validators=[not_in_future], help_text="名单数据截至的日期")
    due_on = date_field(
        "排查任务走访期限",
        help_text="名单中不在花名册、疑似符合条件的人员，所在村（社区）须在此日期前用表B入户调查。"
        "默认为村级上报截止日（至少留出7天）。",
    )
    medical_threshold = forms.DecimalField(
        label="大额医疗支出标准（元）",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="仅用于医保名单：个人自付（没有此列时为医疗总费用）达到此金额的，列为大额医疗支出；"
        "留空表示名单中的人员都属于大额医疗支出。",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_on"].initial = departments.default_due_date(campaign)

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise forms.ValidationError("走访期限不能早于今天。")
        return due_on


class ClearFlagForm(forms.Form):
    reason = forms.CharField(
        label="核销理由",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="写明核实的情况，如：经入户核实，该车辆已于2019年3月转让，有转让合同。",
        error_messages={"required": "请填写核销理由。"},
    )


class CloseTaskForm(forms.Form):
    closure = forms.ChoiceField(
        label="核销原因",
        choices=[("", "请选择"), *ScreeningTask.Closure.choices],
        error_messages={"required": "请选择核销原因。"},
    )
    note = forms.CharField(
        label="走访核实情况",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请写明走访核实的情况。"},
    )


class TaskHouseholdForm(forms.ModelForm):
    """The new household of a screened person: the village is the task's, the head the person."""

    class Meta:
        model = Household
        fields = ["group", "address", "hukou_type", "phone", "poverty_status", "is_edge", "is_other_hardship"]

    clean_phone = HouseholdForm.clean_phone

    def __init__(self, *args, task: ScreeningTask, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = VillagerGroup.objects.filter(village=task.village_id)
        self.fields["phone"].widget.attrs.update(inputmode="tel")
        if not self.is_bound:
            urban = task.village.kind == Village.Kind.URBAN
            self.initial["hukou_type"] = Household.HukouType.URBAN if urban else Household.HukouType.RURAL
            if task.reason == ScreeningTask.Reason.POVERTY:
                self.initial["poverty_status"] = Household.PovertyStatus.NOT_LIFTED
            else:
                self.initial["is_other_hardship"] = True


# --- access ---------------------------------------------------------------------------


def _get_flag(request, public_id, *, write: bool = False) -> HouseholdFlag:
    """A flag of a village the user covers (404 otherwise); `write`: the town office clears flags."""
    flag = (
        scoped(HouseholdFlag.objects, request.user)
        .select_related("campaign", "household", "village", "member", "record__department_list", "cleared_by")
        .filter(public_id=public_uuid(public_id))
        .first()
    )
    if flag is None:
        raise Http404("没有找到该标记。")
    if write:
        roles.require(roles.can_edit_campaign(request.user))
    return flag


def _get_task(request, public_id, *, write: bool = False) -> ScreeningTask:
    """A screening task of a village the user covers (404 otherwise); `write`: those who register households."""
    task = (
        scoped(ScreeningTask.objects, request.user)
        .select_related("campaign", "village", "household", "record__department_list", "closed_by")
        .filter(public_id=public_uuid(public_id))
        .first()
    )
    if task is None:
        raise Http404("没有找到该排查任务。")
    if write:
        roles.require(roles.can_write_registry(request.user))
    return task


def _get_list(request, public_id) -> DepartmentList:
    """A list as uploaded: for the roles that see the whole town (it names people of every village)."""
    found = None
    if departments.sees_department_detail(request.user):
        found = (
            DepartmentList.objects.select_related("uploaded_by")
            .filter(roles.town_q(request.user), public_id=public_uuid(public_id))
            .first()
        )
    if found is None:
        raise Http404("没有找到该名单。")
    return found


def _page(request, qs):
    page = Paginator(qs, page_size()).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _filter(request, qs, statuses: dict[str, str], default: str):
    """The list's status and village filters (StatusFilterForm), applied to `qs`."""
    villages = Village.objects.visible_to(request.user).order_by("order", "code")
    form = StatusFilterForm(request.GET or None, statuses=statuses, villages=villages, initial={"status": default})
    status, village = default, None
    if form.is_valid():
        status = form.cleaned_data["status"] or default
        village = form.cleaned_data["village"]
    if status != "all":
        qs = qs.filter(status=status)
    if village is not None:
        qs = qs.filter(village=village)
    return form, qs


# --- the overview and the upload ------------------------------------------------------------


@login_required
@require_GET
def department_home(request):
    """The lists uploaded (whole town), and the open flags and tasks of the villages the user covers."""
    campaign = get_current_campaign(request)
    detail = departments.sees_department_detail(request.user)
    villages = list(Village.objects.visible_to(request.user).order_by("order", "code"))
    tasks = departments.open_screening_tasks_by_village(campaign, [v.id for v in villages])
    flags = dict(
        departments.flags_visible_to(request.user, campaign)
        .filter(status=HouseholdFlag.Status.OPEN)
        .values_list("village_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = [(v, flags.get(v.id, 0), tasks[v.id]) for v in villages]
    lists = []
    if detail:
        lists = list(DepartmentList.objects.filter(campaign=campaign).select_related("uploaded_by__profile")[:100])
    return render(
        request,
        "cases/department_home.html",
        {
            "campaign": campaign,
            "rows": [r for r in rows if r[1] or r[2]["open"]] if len(rows) > 1 else rows,
            "totals": {
                "flags": sum(flags.values()),
                "open": sum(t["open"] for t in tasks.values()),
                "overdue": sum(t["overdue"] for t in tasks.values()),
            },
            "lists": lists,
            "detail": detail,
            "can_upload": roles.can_edit_campaign(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def department_import(request):
    """Upload, then (only when a needed column is not recognised) map the columns, then check and save.

    Like the roll's import, the mapping page asks for the file again: a list full of ID numbers
    is never kept on the server between two requests.
    """
    roles.require(roles.can_edit_campaign(request.user))
    campaign = get_current_campaign(request)
    form = ListUploadForm(request.POST or None, campaign=campaign)
    if request.method == "GET":
        return render(request, "cases/department_import.html", {"form": form})
    if not form.is_valid():
        return render(request, "cases/department_import.html", {"form": form}, status=400)
    spec = SPECS[form.cleaned_data["department"]]
    mapping_step = request.POST.get("step") == "mapping"
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ImportFileError("请选择要导入的 .xlsx 文件。")
        table = read_table(upload, spec.schema)
    except ImportFileError as exc:
        headers = posted_headers(request.POST) if mapping_step else None
        if headers is None:
            return render(request, "cases/department_import.html", {"form": form, "file_error": str(exc)}, status=400)
        table = Table(header_rows=(), headers=headers, rows=[])
        mapping, _ = mapping_from_form(request.POST, headers, spec.schema)
        return _mapping(request, form, spec, table, mapping, file_error=str(exc), status=400)
    if mapping_step and posted_headers(request.POST) != table.headers:
        mapping = match_headers(table.headers, spec.schema)
        problems = ["所选文件的表头与上一步的不同，请重新确认各列的对应关系。"]
    elif mapping_step:
        mapping, problems = mapping_from_form(request.POST, table.headers, spec.schema)
    else:
        mapping, problems = match_headers(table.headers, spec.schema), []
        if not mapping.complete or spec.missing_any(mapping):
            return _mapping(request, form, spec, table, mapping)
    if spec.missing_any(mapping):
        problems.append(spec.missing_any(mapping))
    if problems:
        return _mapping(request, form, spec, table, mapping, problems=problems, status=400)
    check = departments.check_list(spec.department, table, mapping, town=campaign.town)
    context = {"form": form, "check": check}
    if check.ok:
        try:
            saved = departments.import_list(
                campaign, check, actor=request.user, filename=upload.name, **form.cleaned_data
            )
        except DomainError as exc:
            context["file_error"] = exc.message
        else:
            messages.success(
                request,
                f"已导入{saved.get_department_display()}名单：共{saved.rows}人，花名册中有{saved.matched}人；"
                f"新增标记{saved.flags_raised}条，新增排查任务{saved.tasks_created}件。",
            )
            return redirect("department_list", public_id=saved.public_id)
    if mapping_step:
        return _mapping(request, form, spec, table, mapping, status=400, **context)
    return render(request, "cases/department_import.html", context, status=400)


def _mapping(request, form, spec: Spec, table: Table, mapping: ColumnMapping, *, status: int = 200, **context):
    context.update(mapping_page(table, mapping, spec.schema))
    missing = spec.missing_any(mapping)
    label = DepartmentList.Department(spec.department).label
    context.update(form=form, spec_missing=missing, department_label=label)
    return render(request, "cases/department_mapping.html", context, status=status)


@login_required
@require_GET
def department_list(request, public_id):
    """One uploaded list: its figures and its rows, those not in the registry first."""
    found = _get_list(request, public_id)
    shows = {"unmatched": "不在花名册中", "matched": "花名册中有", "all": "全部"}
    show = request.GET.get("show") if request.GET.get("show") in shows else "unmatched"
    records = found.records.select_related("village", "household").prefetch_related(
        Prefetch("tasks", queryset=ScreeningTask.objects.only("public_id", "record_id", "status"))
    )
    if show == "unmatched":
        records = records.exclude(outcome=DepartmentRecord.Outcome.MATCHED).order_by("outcome", "row")
    elif show == "matched":
        records = records.filter(outcome=DepartmentRecord.Outcome.MATCHED)
    page, query = _page(request, records)
    return render(
        request,
        "cases/department_list.html",
        {"dlist": found, "page": page, "query": query, "show": show, "shows": shows},
    )


# --- flags ---------------------------------------------------------------------------------

FLAG_STATUSES = {"open": "待核实", "cleared": "已核销", "all": "全部"}


@login_required
@require_GET
def department_flags(request):
    campaign = get_current_campaign(request)
    qs = departments.flags_visible_to(request.user, campaign).select_related(
        "household", "village", "member", "record__department_list"
    )
    form, qs = _filter(request, qs, FLAG_STATUSES, "open")
    kind = request.GET.get("kind", "")
    if kind in HouseholdFlag.Kind.values:
        qs = qs.filter(kind=kind)
    detail = departments.sees_department_detail(request.user)
    listed = request.GET.get("list", "")
    if detail and listed:
        qs = qs.filter(record__department_list__public_id=public_uuid(listed))
    page, query = _page(request, qs.order_by("village__order", "-created_at", "-id"))
    return render(
        request,
        "cases/department_flags.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "kind": kind,
            "kinds": HouseholdFlag.Kind.choices,
            "detail": detail,
            "can_clear": roles.can_edit_campaign(request.user),
            "several_villages": several_villages(request.user),
        },
    )


def _flag_page(request, flag: HouseholdFlag, form: ClearFlagForm | None = None, *, status: int = 200):
    can_clear = roles.can_edit_campaign(request.user) and flag.status == HouseholdFlag.Status.OPEN
    return render(
        request,
        "cases/department_flag.html",
        {
            "flag": flag,
            "detail": departments.sees_department_detail(request.user),
            "form": form or (ClearFlagForm() if can_clear else None),
        },
        status=status,
    )


@login_required
@require_GET
def department_flag(request, public_id):
    return _flag_page(request, _get_flag(request, public_id))


@login_required
@require_POST
def department_flag_clear(request, public_id):
    flag = _get_flag(request, public_id, write=True)
    form = ClearFlagForm(request.POST)
    if form.is_valid():
        try:
            departments.clear_flag(flag, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已核销{flag.member.name}的标记：{flag.get_kind_display()}。")
            return redirect("department_flag", public_id=flag.public_id)
    return _flag_page(request, flag, form, status=400)


# --- screening tasks --------------------------------------------------------------------------

TASK_STATUSES = {"open": "待走访", "registered": "已登记入户", "closed": "已核销", "all": "全部"}


@login_required
@require_GET
def department_tasks(request):
    campaign = get_current_campaign(request)
    qs = departments.tasks_visible_to(request.user, campaign).select_related("village", "record__department_list")
    form, qs = _filter(request, qs, TASK_STATUSES, "open")
    overdue = request.GET.get("overdue") == "1"
    today = timezone.localdate()
    if overdue:
        qs = qs.filter(status=ScreeningTask.Status.OPEN, due_on__lt=today)
    page, query = _page(request, qs.order_by("due_on", "village__order", "id"))
    return render(
        request,
        "cases/department_tasks.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "overdue": overdue,
            "today": today,
            "detail": departments.sees_department_detail(request.user),
            "several_villages": several_villages(request.user),
        },
    )


def _task_page(request, task: ScreeningTask, *, show_id: bool = False, form=None, status: int = 200):
    works = roles.can_write_registry(request.user) and task.status == ScreeningTask.Status.OPEN
    registered = departments.registered_household(task) if works else None
    return render(
        request,
        "cases/department_task.html",
        {
            "task": task,
            "show_id": show_id,
            "can_reveal": roles.can_read_full_ids(request.user),
            "detail": departments.sees_department_detail(request.user),
            "works": works,
            "registered": registered,
            "registered_here": registered is not None and registered.village_id == task.village_id,
            "form": form or (CloseTaskForm() if works else None),
            "overdue": task.is_overdue(),
        },
        status=status,
    )


@login_required
@require_GET
def department_task(request, public_id):
    return _task_page(request, _get_task(request, public_id))


@login_required
@require_POST
def department_task_reveal(request, public_id):
    task = _get_task(request, public_id)
    roles.require(roles.can_read_full_ids(request.user))
    departments.reveal_task_id(task, actor=request.user)
    return _task_page(request, task, show_id=True)


@login_required
@require_POST
def department_task_close(request, public_id):
    task = _get_task(request, public_id, write=True)
    form = CloseTaskForm(request.POST)
    if form.is_valid():
        try:
            departments.close_task(task, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已核销{task.name}的排查任务。")
            return redirect("department_task", public_id=task.public_id)
    return _task_page(request, task, form=form, status=400)


@login_required
@require_POST
def department_task_link(request, public_id):
    task = _get_task(request, public_id, write=True)
    try:
        household = departments.link_task_household(task, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("department_task", public_id=task.public_id)
    messages.success(request, f"已关联{task.name}所在的家庭，并列入排查名单（表B）。")
    return redirect("household_detail", public_id=household.public_id)


@login_required
@require_http_methods(["GET", "POST"])
def department_task_register(request, public_id):
    """Register the person as the head of a new household of the task's village (the registry's own
    service); the household goes on the form-B list and the task is closed with a link to it."""
    task = _get_task(request, public_id, write=True)
    if task.status != ScreeningTask.Status.OPEN:
        messages.error(request, "该排查任务已办结。")
        return redirect("department_task", public_id=task.public_id)
    form = TaskHouseholdForm(request.POST or None, task=task)
    if request.method == "POST" and form.is_valid():
        try:
            household = departments.register_task_household(task, actor=request.user, data=form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"已登记{task.name}户并列入排查名单（表B），请补充家庭成员后入户调查。")
            return redirect("household_detail", public_id=household.public_id)
    return render(
        request,
        "cases/department_task_register.html",
        {"task": task, "form": form, "cancel": reverse("department_task", args=[task.public_id])},
        status=400 if form.errors else 200,
    )
