"""Find the module of a platform by name. A seventh platform is one new package here."""

from functools import cache
from importlib import import_module

from platforms.base import Publisher
from platforms.models import Platform


@cache
def get_publisher(platform: str) -> Publisher:
    """Return the publisher of a platform (a module-level singleton; publishers keep no state)."""
    if platform not in Platform.values:
        raise LookupError(f"unknown platform {platform!r}")

    module = import_module(f"platforms.{platform}.publisher")
    return module.publisher


@cache
def get_rules(platform: str):
    """Return the rules object of a platform (see platforms/rules.py)."""
    if platform not in Platform.values:
        raise LookupError(f"unknown platform {platform!r}")

    module = import_module(f"platforms.{platform}.rules")
    return module.rules
