from django.contrib import admin
from rest_framework.authtoken.models import TokenProxy

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


# DRF's own admin for the legacy authtoken table lists every key in clear, and a key is all
# it takes to act as its user. Staff do not need to read them: `manage.py drf_create_token
# -r <username>` replaces a user's legacy key (docs/api.md).
if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
