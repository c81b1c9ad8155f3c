"""Django admin in Chinese. Every save and delete made here is recorded in the
audit trail through the same helper as the services."""

from django import forms
from django.contrib import admin

from . import audit
from .models import (
    AuditEvent,
    Campaign,
    Household,
    LeadershipMember,
    Member,
    Phase,
    Profile,
    Town,
    Village,
    VillagerGroup,
    WorkGroup,
    WorkGroupMember,
)
from .services import MEMBER_FIELDS
from .validators import clean_id_number


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


class MemberAdminForm(forms.ModelForm):
    class Meta:
        model = Member
        fields = [*MEMBER_FIELDS, "household", "status", "status_changed_on", "status_reason"]

    def clean_id_number(self):
        return clean_id_number(self.cleaned_data["id_number"])


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
    list_display = ["user", "display_name", "role", "village", "work_group"]
    list_filter = ["role"]


@admin.register(Household)
class HouseholdAdmin(AuditedAdmin):
    list_display = ["public_id", "village", "hukou_type", "dibao_status", "covered_persons", "monthly_amount"]
    list_filter = ["village", "dibao_status", "hukou_type"]
    list_select_related = ["village"]
    readonly_fields = ["public_id"]


@admin.register(Member)
class MemberAdmin(AuditedAdmin):
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
