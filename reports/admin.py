from django.contrib import admin

from .models import Export


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
