"""The Facebook Pages a user manages, with their Page tokens and linked Instagram accounts.

Read with a (long-lived) Facebook user token from GET /me/accounts. Page tokens read this
way do not expire, which is why we store them and never the user token: posting to a Page
with a user token fails with "(#200) ... as the page itself".
"""

from dataclasses import dataclass

from django.conf import settings

from platforms.errors import PermanentError
from platforms.meta.graph import GraphClient

PAGE_FIELDS = "id,name,access_token,instagram_business_account{id,username,name}"


@dataclass(frozen=True)
class Page:
    id: str
    name: str
    access_token: str
    instagram_id: str = ""
    instagram_username: str = ""

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


def list_pages(user_token: str) -> list[Page]:
    """Return the Pages this user token can post as; [] when the token is not a user token."""
    client = GraphClient(settings.HAYON_GRAPH_API_URL, user_token, "Facebook")
    try:
        answer = client.get("me/accounts", fields=PAGE_FIELDS, limit=100)
    except PermanentError:
        # A Page token has no /accounts edge: the caller may have given one directly.
        return []

    pages = []
    for row in answer.get("data") or []:
        instagram = row.get("instagram_business_account") or {}
        pages.append(
            Page(
                id=str(row["id"]),
                name=row.get("name") or str(row["id"]),
                access_token=row.get("access_token") or "",
                instagram_id=str(instagram.get("id") or ""),
                instagram_username=instagram.get("username") or "",
            )
        )
    return pages


def page_fields(page: Page) -> dict:
    """Return the account fields of a connected Facebook Page."""
    return {
        "handle": page.name,
        "remote_id": page.id,
        "base_url": f"https://www.facebook.com/{page.id}",
        "display_name": page.name,
        "credentials": {"access_token": page.access_token},
    }


def instagram_fields(page: Page) -> dict:
    """Return the account fields of an Instagram account reached through its Page."""
    return {
        "handle": page.instagram_username or page.instagram_id,
        "remote_id": page.instagram_id,
        "base_url": f"https://www.instagram.com/{page.instagram_username}/",
        "display_name": page.instagram_username,
        # A Page token does not expire; clearing an Instagram Login expiry stops token upkeep
        # from renewing an account reconnected this way.
        "token_expires_at": None,
        "credentials": {"access_token": page.access_token, "login": "facebook", "page": page.id},
    }
