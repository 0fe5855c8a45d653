"""Token upkeep: renew access tokens before they expire, so posts never wait on a refresh.

Instagram (Instagram Login) and Threads tokens last 60 days and are lost if not renewed in
time; Tumblr access tokens last about 42 minutes and come with a rotating refresh token. The
periodic task (platforms/tasks.py) renews each account whose token expires within its
platform's lead time, one account at a time, under the same row lock the publishing worker
takes (posts/publishing.py), so a worker and the task never both spend a refresh token.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from platforms.errors import PublishError, ReconnectRequired
from platforms.models import Account, AccountHealth
from platforms.registry import get_publisher

logger = logging.getLogger(__name__)


def refresh_leads() -> dict[str, timedelta]:
    """Return, per platform whose tokens can be renewed, how long before expiry to do it."""
    meta = timedelta(seconds=settings.HAYON_META_TOKEN_REFRESH_LEAD)
    return {
        "instagram": meta,
        "threads": meta,
        "tumblr": timedelta(seconds=settings.HAYON_TUMBLR_TOKEN_REFRESH_LEAD),
    }


@dataclass
class UpkeepReport:
    refreshed: list[int] = field(default_factory=list)
    needs_reconnect: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[int]]:
        return {
            "refreshed": self.refreshed,
            "needs_reconnect": self.needs_reconnect,
            "failed": self.failed,
        }


def accounts_due(now: datetime) -> list[int]:
    """Return the ids of active accounts whose token expires within their platform's lead."""
    due = []
    for platform, lead in refresh_leads().items():
        due += Account.objects.filter(
            platform=platform,
            health=AccountHealth.ACTIVE,
            token_expires_at__isnull=False,
            token_expires_at__lte=now + lead,
        ).values_list("pk", flat=True)
    return sorted(due)


def refresh_due_tokens() -> UpkeepReport:
    """Renew every token that is due; mark accounts whose renewal is refused."""
    now = timezone.now()
    report = UpkeepReport()

    for account_id in accounts_due(now):
        try:
            if refresh_account(account_id, now):
                report.refreshed.append(account_id)
        except ReconnectRequired:
            report.needs_reconnect.append(account_id)
        except PublishError as exc:
            # Unreachable or throttled: the token still has its lead time, try next run.
            logger.warning("token refresh postponed account=%s: %s", account_id, exc.message)
            report.failed.append(account_id)

    return report


def refresh_account(account_id: int, now: datetime) -> bool:
    """Renew one account's token under its row lock; return whether it was renewed.

    Another process may have renewed it while we waited for the lock: then the expiry has
    moved past the lead time and there is nothing left to do.
    """
    try:
        with transaction.atomic():
            account = Account.objects.select_for_update().get(pk=account_id)
            lead = refresh_leads()[account.platform]
            expires = account.token_expires_at
            if account.health != AccountHealth.ACTIVE or expires is None or expires > now + lead:
                return False

            get_publisher(account.platform).refresh_credentials(account)
    except ReconnectRequired as exc:
        # Marked outside the locked transaction, which the error has rolled back.
        account = Account.objects.get(pk=account_id)
        account.mark_needs_reconnect(exc.message)
        logger.warning(
            "token refresh refused account=%s platform=%s: %s",
            account_id,
            account.platform,
            exc.message,
        )
        raise

    logger.info("token refreshed account=%s platform=%s", account_id, account.platform)
    return True
