from django.contrib import admin

from hayon.tokens.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Admins can see and revoke tokens; keys are never stored, so there is none to show."""

    list_display = ["name", "prefix", "user", "created_at", "last_used_at", "expires_at"]
    list_filter = ["created_at"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at"]
    fields = [*readonly_fields, "expires_at"]

    def has_add_permission(self, request) -> bool:
        return False
