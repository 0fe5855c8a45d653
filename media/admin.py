"""Uploaded media in Django admin: read-only, for finding out what a post carried."""

from django.contrib import admin
from django.http import HttpRequest

from media.models import Media


@admin.register(Media)
class MediaAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "filename",
        "owner",
        "content_type",
        "size",
        "dimensions",
        "status",
        "created_at",
    ]
    list_filter = ["status", "content_type"]
    search_fields = ["filename", "key", "alt", "owner__username"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Media arrives through signed uploads; a row without its object would be a lie.
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="Size (px)")
    def dimensions(self, media: Media) -> str:
        if not media.width or not media.height:
            return "-"
        return f"{media.width} x {media.height}"
