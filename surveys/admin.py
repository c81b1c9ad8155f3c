from django.contrib import admin

from cases.admin import AuditedAdmin

from .models import (
    ScreeningEntry,
    Survey,
    SurveyDeduction,
    SurveyHouse,
    SurveyIncome,
    SurveyMember,
    SurveySignature,
    SurveySupporter,
    SurveyVehicle,
    VillageReport,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Survey rows change only through the survey pages, which version and sign them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for model in (
    SurveyMember,
    SurveyIncome,
    SurveyDeduction,
    SurveyHouse,
    SurveyVehicle,
    SurveySupporter,
    SurveySignature,
):
    admin.site.register(model, ReadOnlyAdmin)


class SurveyMemberInline(admin.TabularInline):
    model = SurveyMember
    extra = 0
    fields = ["name", "relationship", "presence", "co_resident", "left_out_reason"]
    readonly_fields = fields
    can_delete = False


class SurveySignatureInline(admin.TabularInline):
    model = SurveySignature
    extra = 0
    readonly_fields = ["investigator", "signed_at", "method"]
    fields = readonly_fields
    can_delete = False


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ["household", "form", "version", "status", "visit_date", "suggested_outcome", "submitted_at"]
    list_filter = ["form", "status", "suggested_outcome"]
    list_select_related = ["household__village"]
    inlines = [SurveyMemberInline, SurveySignatureInline]


@admin.register(ScreeningEntry)
class ScreeningEntryAdmin(AuditedAdmin):
    list_display = ["household", "kind", "campaign", "added_by", "added_at"]
    list_filter = ["kind"]
    raw_id_fields = ["household"]


@admin.register(VillageReport)
class VillageReportAdmin(ReadOnlyAdmin):
    list_display = ["village", "campaign", "reported_by", "reported_at", "households"]
