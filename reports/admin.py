from django.contrib import admin

from .models import Export, TrainingAttendance, TrainingSession


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    """Who made which file and how the job went; files are downloaded by their requester only."""

    list_display = ["created_at", "requested_by", "kind", "village", "sample", "full_ids", "status", "done", "total"]
    list_filter = ["status", "kind", "full_ids"]
    exclude = ["file"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TrainingAttendanceInline(admin.TabularInline):
    model = TrainingAttendance
    fields = ["village", "attendees"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TrainingSession)
class TrainingSessionAdmin(admin.ModelAdmin):
    """Read here; recorded and corrected on the training pages, through the audited services."""

    list_display = ["held_on", "topic", "place", "town_attendees", "recorded_by", "recorded_at"]
    list_filter = ["campaign"]
    inlines = [TrainingAttendanceInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
