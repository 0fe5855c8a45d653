"""Fake platform servers for end-to-end tests.

FAKES maps a name to a factory returning a started fake with an `env()` method: the settings
the worker process needs to reach it. tests/conftest.py starts them all once per session,
before the worker, and passes their env to it. Add a platform's fake here.
"""

FAKES: dict[str, str] = {
    # Not a platform: moto's S3 server and a shared local media folder (tests/support/s3.py).
    "storage": "tests.support.s3:S3Server",
    "instagram": "tests.fakes.meta:InstagramFake",
    "threads": "tests.fakes.meta:ThreadsFake",
    "facebook": "tests.fakes.meta:FacebookFake",
    "tumblr": "tests.fakes.tumblr:TumblrFake",
}
