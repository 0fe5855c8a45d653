"""Accounts in Django admin: health at a glance, re-check and mark for reconnection.

Credentials never appear here. The model field is not editable, and `fields` below lists
what the form shows, so a later model change cannot add it to a form, list or read-only
field by accident (tests/test_admin.py checks the rendered pages).
"""

import logging

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from platforms import services
from platforms.models import Account, AccountHealth

logger = logging.getLogger(__name__)

RECONNECT_REASON = "An administrator asked for this account to be reconnected."


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = [
        "handle",
        "platform",
        "owner",
        "health",
        "token_expires_at",
        "short_last_error",
        "updated_at",
    ]
    list_filter = ["platform", "health"]
    search_fields = ["handle", "display_name", "remote_id", "owner__username"]
    list_select_related = ["owner"]
    ordering = ["platform", "handle"]
    fields = [
        "owner",
        "platform",
        "handle",
        "display_name",
        "remote_id",
        "base_url",
        "health",
        "health_reason",
        "last_error",
        "token_expires_at",
        "limits",
        "limits_checked_at",
        "credentials_version",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "owner",
        "platform",
        "remote_id",
        "limits",
        "limits_checked_at",
        "credentials_version",
        "created_at",
        "updated_at",
    ]
    actions = ["recheck", "mark_for_reconnection"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        # An account is only as good as the credentials its platform gave us, and those come
        # through a connect flow (the accounts page or the API), never a hand-filled form.
        return False

    @admin.display(description="Last error")
    def short_last_error(self, account: Account) -> str:
        text = account.last_error or account.health_reason
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.action(description="Re-check with the platform")
    def recheck(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        for account in queryset:
            checked = services.check_account(account)
            logger.info(
                "account re-checked from admin account=%s platform=%s by=%s health=%s",
                account.pk,
                account.platform,
                request.user.pk,
                checked.health,
            )
            if checked.health == AccountHealth.ACTIVE and not checked.last_error:
                self.message_user(request, f"{checked}: working.", messages.SUCCESS)
            else:
                problem = checked.health_reason or checked.last_error
                self.message_user(
                    request,
                    f"{checked}: {checked.get_health_display()}. {problem}",
                    messages.WARNING,
                )

    @admin.action(description="Mark for reconnection")
    def mark_for_reconnection(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        count = 0
        for account in queryset.exclude(health=AccountHealth.REVOKED):
            account.mark_needs_reconnect(RECONNECT_REASON)
            count += 1
            logger.info(
                "account marked for reconnection from admin account=%s platform=%s by=%s",
                account.pk,
                account.platform,
                request.user.pk,
            )
        self.message_user(
            request,
            f"{count} account(s) marked for reconnection; their owners see a reconnect prompt.",
            messages.SUCCESS,
        )
