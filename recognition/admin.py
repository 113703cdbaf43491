"""The recognition log in the admin: read-only."""

from django.contrib import admin

from .models import Recognition


@admin.register(Recognition)
class RecognitionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "source", "song", "offset_s", "confidence", "score", "listened_s", "match_time_ms"]
    list_filter = ["source", "created_at"]
    search_fields = ["song__title", "song__artist"]
    list_select_related = ["song"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
