"""Link cards for Bluesky posts: the page's Open Graph title, description and image.

Bluesky does not build cards itself; the client fetches the page and embeds
`app.bsky.embed.external`. The page and its image are user-chosen URLs, so both go through
hayon/safe_http.py (public addresses only, time and size caps). A card is a nicety: when the
page cannot be read the post goes out without one.
"""

import io
import logging
from dataclasses import dataclass
from urllib.parse import urljoin

from atproto import Client, models
from bs4 import BeautifulSoup
from PIL import Image, UnidentifiedImageError

from hayon.safe_http import FetchError, fetch

logger = logging.getLogger(__name__)

PAGE_BYTES = 1_000_000
IMAGE_BYTES = 5_000_000
# Bluesky's limit for a card thumbnail blob.
THUMB_BYTES = 1_000_000
THUMB_SIDE = 1200
TITLE_CHARS = 300
DESCRIPTION_CHARS = 1000
HTML_TYPES = ("text/html", "application/xhtml+xml")
THUMB_TYPES = ("image/jpeg", "image/png", "image/webp")


@dataclass(frozen=True)
class LinkCard:
    uri: str
    title: str
    description: str
    image_url: str | None


def _meta(soup: BeautifulSoup, *names: str) -> str:
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find(
            "meta", attrs={"name": name}
        )
        if tag and tag.get("content", "").strip():
            return tag["content"].strip()
    return ""


def read_card(url: str) -> LinkCard | None:
    """Return the card of a page, or None when it cannot be fetched or is not HTML."""
    try:
        page = fetch(url, max_bytes=PAGE_BYTES, accept="text/html")
    except FetchError as exc:
        logger.info("link card skipped: %s", exc.message)
        return None
    if page.status != 200 or page.content_type not in HTML_TYPES:
        return None

    soup = BeautifulSoup(page.body, "html.parser")
    title = _meta(soup, "og:title", "twitter:title")
    if not title and soup.title and soup.title.string:
        title = soup.title.string.strip()
    description = _meta(soup, "og:description", "twitter:description", "description")
    image = _meta(soup, "og:image", "og:image:url", "twitter:image")

    return LinkCard(
        uri=url,
        title=title[:TITLE_CHARS],
        description=description[:DESCRIPTION_CHARS],
        image_url=urljoin(page.url, image) if image else None,
    )


def thumbnail(image_url: str) -> bytes | None:
    """Return the card image as a blob Bluesky accepts (under 1 MB), or None."""
    try:
        image = fetch(image_url, max_bytes=IMAGE_BYTES, accept="image/*")
    except FetchError as exc:
        logger.info("link card image skipped: %s", exc.message)
        return None
    if image.status != 200:
        return None
    if image.content_type in THUMB_TYPES and len(image.body) <= THUMB_BYTES:
        return image.body
    return _shrink(image.body)


def _shrink(data: bytes) -> bytes | None:
    """Re-encode an image as a JPEG small enough for a card thumbnail."""
    try:
        with Image.open(io.BytesIO(data)) as source:
            picture = source.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None

    picture.thumbnail((THUMB_SIDE, THUMB_SIDE))
    for quality in (85, 70, 55, 40):
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=quality)
        if out.tell() <= THUMB_BYTES:
            return out.getvalue()
    return None


def link_card_embed(client: Client, url: str) -> models.AppBskyEmbedExternal.Main | None:
    """Return the external embed for a link, its thumbnail uploaded; None without a card.

    Raise the SDK's errors when uploading the thumbnail fails.
    """
    card = read_card(url)
    if card is None:
        return None

    thumb = None
    data = thumbnail(card.image_url) if card.image_url else None
    if data:
        thumb = client.upload_blob(data).blob

    return models.AppBskyEmbedExternal.Main(
        external=models.AppBskyEmbedExternal.External(
            uri=card.uri, title=card.title, description=card.description, thumb=thumb
        )
    )
