"""Django admin in Chinese. Every save and delete made here is recorded in the
audit trail through the same helper as the services."""

from django import forms
from django.contrib import admin

from . import audit
from .forms import clean_member_id, mask_id_field
from .models import (
    AuditEvent,
    Campaign,
    Complaint,
    GreenChannel,
    Household,
    LeadershipMember,
    Member,
    Phase,
    Profile,
    TemporaryAid,
    Town,
    Village,
    VillagerGroup,
    WorkGroup,
    WorkGroupMember,
)
from .services import MEMBER_FIELDS


def _context(obj):
    household = obj if isinstance(obj, Household) else getattr(obj, "household", None)
    campaign = obj if isinstance(obj, Campaign) else getattr(obj, "campaign", None)
    return {"household": household, "campaign": campaign}


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
            obj=obj,
            before=before,
            after=audit.snapshot(obj),
            reason="管理后台",
            **_context(obj),
        )

    def delete_model(self, request, obj):
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.DELETE,
            obj=obj,
            before=audit.snapshot(obj),
            reason="管理后台",
            **_context(obj),
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_related(self, request, form, formsets, change):
        """Many-to-many changes (a village added to a work group widens its scope) and
        inline rows are recorded like any other change."""
        obj = form.instance
        before = self._related_values(obj) if change else {}
        super().save_related(request, form, formsets, change)
        audit.record(
            actor=request.user,
            action=AuditEvent.Action.UPDATE,
            obj=obj,
            before=before,
            after=self._related_values(obj),
            reason="管理后台（关联）",
            **_context(obj),
        )

    @staticmethod
    def _related_values(obj) -> dict:
        return {f.name: sorted(str(x) for x in getattr(obj, f.name).all()) for f in obj._meta.many_to_many}

    def save_formset(self, request, form, formset, change):
        originals = {
            f.instance.pk: audit.snapshot(type(f.instance).objects.get(pk=f.instance.pk))
            for f in formset.initial_forms
            if f.instance.pk and f.has_changed()
        }
        removed = [(f.instance, audit.snapshot(f.instance)) for f in formset.deleted_forms if f.instance.pk]
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            self._record_row(request, AuditEvent.Action.CREATE, obj, {}, audit.snapshot(obj))
        for obj, _fields in formset.changed_objects:
            self._record_row(request, AuditEvent.Action.UPDATE, obj, originals.get(obj.pk, {}), audit.snapshot(obj))
        for obj, before in removed:
            self._record_row(request, AuditEvent.Action.DELETE, obj, before, {})

    @staticmethod
    def _record_row(request, action, obj, before, after):
        audit.record(
            actor=request.user,
            action=action,
            obj=obj,
            before=before,
            after=after,
            reason="管理后台（明细）",
            **_context(obj),
        )


class MemberAdminForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = [*MEMBER_FIELDS, "household", "status", "status_changed_on", "status_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mask_id_field(self)

    def clean_id_number(self):
        return clean_member_id(self)


@admin.register(Town)
class TownAdmin(AuditedAdmin):
    list_display = ["code", "name", "county"]


class VillagerGroupInline(admin.TabularInline):
    model = VillagerGroup
    extra = 0


@admin.register(Village)
class VillageAdmin(AuditedAdmin):
    list_display = ["code", "name", "kind", "town", "order"]
    list_filter = ["kind", "town"]
    inlines = [VillagerGroupInline]


@admin.register(VillagerGroup)
class VillagerGroupAdmin(AuditedAdmin):
    list_display = ["village", "number", "name"]
    list_filter = ["village"]


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(AuditedAdmin):
    list_display = ["name", "document_number", "town", "current_phase", "is_active"]
    inlines = [PhaseInline]


@admin.register(Phase)
class PhaseAdmin(AuditedAdmin):
    list_display = ["campaign", "number", "name", "starts_on", "ends_on"]


@admin.register(LeadershipMember)
class LeadershipMemberAdmin(AuditedAdmin):
    list_display = ["name", "role", "office_role", "campaign", "user"]
    list_filter = ["role", "office_role"]


class WorkGroupMemberInline(admin.TabularInline):
    model = WorkGroupMember
    extra = 0


@admin.register(WorkGroup)
class WorkGroupAdmin(AuditedAdmin):
    list_display = ["number", "name", "campaign"]
    filter_horizontal = ["villages"]
    inlines = [WorkGroupMemberInline]


@admin.register(WorkGroupMember)
class WorkGroupMemberAdmin(AuditedAdmin):
    list_display = ["name", "role", "work_group", "user"]


@admin.register(Profile)
class ProfileAdmin(AuditedAdmin):
    list_display = ["user", "display_name", "role", "town", "village", "work_group"]
    list_filter = ["role", "town"]


class KeptAdmin(AuditedAdmin):
    """Records with a history are kept: closed or changed with a reason, never deleted."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Household)
class HouseholdAdmin(KeptAdmin):
    list_display = ["public_id", "village", "hukou_type", "dibao_status", "covered_persons", "monthly_amount"]
    list_filter = ["village", "dibao_status", "hukou_type"]
    list_select_related = ["village"]
    readonly_fields = ["public_id"]


@admin.register(Member)
class MemberAdmin(KeptAdmin):
    form = MemberAdminForm
    list_display = ["name", "masked_id", "relationship", "status", "household"]
    list_filter = ["status", "relationship"]
    list_select_related = ["household__village"]
    search_fields = ["name"]
    raw_id_fields = ["household"]
    readonly_fields = ["sex", "birth_date"]

    def save_model(self, request, obj, form, change):
        obj.derive_from_id()
        super().save_model(request, obj, form, change)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The trail is append-only: it can be read here, never changed."""

    list_display = ["at", "actor", "action", "model", "object_repr", "reason"]
    list_filter = ["action", "model"]
    list_select_related = ["actor"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records changed only through their services (rules, audit): shown here, never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GreenChannel)
class GreenChannelAdmin(ReadOnlyAdmin):
    list_display = ["member", "village", "ground", "status", "accepted_on", "documents_due", "review_due"]
    list_filter = ["status", "ground"]
    list_select_related = ["member", "village"]


@admin.register(TemporaryAid)
class TemporaryAidAdmin(ReadOnlyAdmin):
    list_display = ["person", "village", "kind", "status", "requested_amount", "approved_amount", "paid_total"]
    list_filter = ["status", "kind"]
    list_select_related = ["village"]


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ["received_on", "channel", "subject", "village", "status", "due_on"]
    list_filter = ["status", "channel", "subject"]
    list_select_related = ["village"]
