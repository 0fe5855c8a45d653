"""Celery tasks of the platforms app: thin wrappers around platforms/tokens.py."""

from celery import shared_task

from platforms import tokens


@shared_task(name="platforms.refresh_tokens", ignore_result=True)
def refresh_tokens() -> dict[str, list[int]]:
    """Renew tokens that expire soon (Celery beat, see hayon/celery.py)."""
    return tokens.refresh_due_tokens().as_dict()
