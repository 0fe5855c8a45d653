"""Hayon's settings with the bench-only URLconf, which adds the bare endpoint.

Only the API benchmark's gunicorn runs with these (DJANGO_SETTINGS_MODULE=bench.settings);
production never loads them.
"""

from hayon.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
