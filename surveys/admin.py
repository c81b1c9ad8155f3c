from django.contrib import admin

from cases.admin import AuditedAdmin

from .models import ScreeningEntry, Survey, SurveyMember, SurveySignature, VillageReport


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
class SurveyAdmin(admin.ModelAdmin):
    """Surveys change only through the survey pages (signing, versioning); here they are read."""

    list_display = ["household", "form", "version", "status", "visit_date", "suggested_outcome", "submitted_at"]
    list_filter = ["form", "status", "suggested_outcome"]
    list_select_related = ["household__village"]
    inlines = [SurveyMemberInline, SurveySignatureInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScreeningEntry)
class ScreeningEntryAdmin(AuditedAdmin):
    list_display = ["household", "kind", "campaign", "added_by", "added_at"]
    list_filter = ["kind"]
    raw_id_fields = ["household"]


@admin.register(VillageReport)
class VillageReportAdmin(admin.ModelAdmin):
    list_display = ["village", "campaign", "reported_by", "reported_at", "households"]

    def has_change_permission(self, request, obj=None):
        return False
