"""Connecting, checking and disconnecting accounts."""

import logging
from importlib import import_module

from django.db import transaction
from ssrfguard import SSRFGuardError, resolve

from hayon import safe_http
from hayon.errors import Conflict, HayonError
from platforms.errors import PermanentError, PublishError
from platforms.models import Account, AccountHealth
from platforms.registry import get_publisher

logger = logging.getLogger(__name__)


def save_account(owner, platform: str, fields: dict) -> tuple[Account, bool]:
    """Create the account, or update the one already connected for the same remote id."""
    with transaction.atomic():
        account, created = Account.objects.select_for_update().get_or_create(
            owner=owner,
            platform=platform,
            remote_id=fields["remote_id"],
            defaults={"handle": fields["handle"]},
        )
        for name in ("handle", "base_url", "display_name", "token_expires_at", "limits"):
            if name in fields:
                setattr(account, name, fields[name])
        account.health = AccountHealth.ACTIVE
        account.health_reason = ""
        account.last_error = ""
        account.save()
        account.store_credentials(fields["credentials"])

    logger.info(
        "account %s account=%s owner=%s platform=%s",
        "connected" if created else "reconnected",
        account.pk,
        owner.pk,
        platform,
    )
    return account, created


def ensure_public_urls(data: dict) -> None:
    """Refuse connect data whose `*_url` field points anywhere but the public internet.

    A PDS or instance URL is chosen by the person connecting, and the platform SDK then calls
    it from our servers. The name is resolved here and every address checked with the policy
    of hayon/safe_http.py (HAYON_FETCH_ALLOW_PRIVATE lets tests reach loopback servers).
    The SDK resolves the name again when it connects, so this narrows but does not close a
    DNS-rebinding window; see docs/api.md.
    """
    policy = safe_http.policy()
    for name, value in data.items():
        if not name.endswith("_url") or not isinstance(value, str) or not value:
            continue
        try:
            resolve(policy.check_url(value), policy=policy)
        except SSRFGuardError as exc:
            raise HayonError(
                f"Hayon does not connect to this address: {value} is not public ({exc})",
                code="url_not_public",
                field=name,
            ) from exc
        except OSError as exc:
            raise HayonError(
                f"{value} could not be found: check the address", code="url_unknown", field=name
            ) from exc


def connect_account(owner, platform: str, data: dict) -> tuple[Account, bool]:
    """Verify the credentials with the platform and store the account; 400 when refused.

    Every way in (the API and the accounts page) passes here, so none of them can skip the
    check that the URLs a person gives are public.
    """
    ensure_public_urls(data)

    module = import_module(f"platforms.{platform}.connect")
    try:
        fields = module.connect(owner, data)
    except PublishError as exc:
        raise HayonError(exc.message, code="connect_failed") from exc

    return save_account(owner, platform, fields)


def check_account(account: Account) -> Account:
    """Ask the platform whether the credentials still work; record the answer on the account.

    Afterwards the error shown is this check's alone: a passing check clears an older one.
    An unexpected failure leaves the account as it was.
    """
    was = account.health

    try:
        get_publisher(account.platform).check_account(account)
    except PermanentError as exc:
        account.mark_needs_reconnect(exc.message)
    except PublishError as exc:
        if exc.code in ("auth_expired", "reconnect_required"):
            account.mark_needs_reconnect(exc.message)
        else:
            account.last_error = exc.message
            account.save(update_fields=["last_error", "updated_at"])
    else:
        account.mark_active()

    account.refresh_from_db()
    if account.health != was:
        logger.info(
            "account health changed account=%s platform=%s from=%s to=%s",
            account.pk,
            account.platform,
            was,
            account.health,
        )
    return account


def disconnect_account(account: Account) -> None:
    """Remove an account; refuse while deliveries to it are still waiting or publishing."""
    waiting = account.deliveries.filter(
        status__in=["pending", "queued", "publishing", "retrying"]
    ).count()
    if waiting:
        raise Conflict(
            f"{account} has {waiting} deliveries still waiting; cancel them first",
            code="account_in_use",
        )

    account_id = account.pk
    if account.deliveries.exists():
        # Published history keeps pointing at the account, so it is marked, not deleted.
        account.health = AccountHealth.REVOKED
        account.health_reason = "Disconnected by its owner"
        account.credentials = {}
        account.save()
    else:
        # delete() sets the primary key to None, hence the id kept above for the log.
        account.delete()
    logger.info("account disconnected account=%s platform=%s", account_id, account.platform)
