"""Reading back what the local PDS holds: the truth about how many posts were made."""

from atproto import Client

from tests.support.pds import PDSAccount


def read_posts(pds_url: str, login: PDSAccount) -> dict:
    """Return the account's post records by URI (up to 100, newest first)."""
    client = Client(base_url=pds_url)
    try:
        client.login(login.handle, login.password, fetch_bsky_profile=False)
        return client.app.bsky.feed.post.list(login.did, limit=100).records
    finally:
        client.request.close()


def read_post(pds_url: str, login: PDSAccount, rkey: str):
    """Return one post record of the account by its record key."""
    client = Client(base_url=pds_url)
    try:
        client.login(login.handle, login.password, fetch_bsky_profile=False)
        return client.app.bsky.feed.post.get(login.did, rkey).value
    finally:
        client.request.close()


def records_with(pds_url: str, login: PDSAccount, text: str) -> int:
    """Return how many of the account's posts have exactly this text."""
    return sum(1 for record in read_posts(pds_url, login).values() if record.text == text)


def connect(api, pds_url: str, login: PDSAccount, service_url: str | None = None) -> dict:
    """Connect the PDS account through the API, as a user would; return the account."""
    response = api.post(
        "/api/accounts/bluesky/",
        {
            "handle": login.handle,
            "app_password": login.password,
            "service_url": service_url or pds_url,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return {**response.json(), "login": login}
