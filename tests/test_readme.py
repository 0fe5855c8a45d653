"""The README is the contract for settings: every one the app reads is listed there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def names_read_from_the_environment() -> set[str]:
    settings = (ROOT / "hayon" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', settings))


def test_it_lists_every_setting_the_app_reads():
    readme = (ROOT / "README.md").read_text()
    names = names_read_from_the_environment()
    missing = {name for name in names if f"`{name}`" not in readme}

    assert len(names) > 40
    assert not missing, f"README.md does not list: {sorted(missing)}"
