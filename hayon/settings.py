"""Hayon's settings, read from the environment.

Every value has a default that runs on one machine from a fresh clone (SQLite, the local
RabbitMQ or a file broker, local media). The production profile is described in
docs/operations.md; `HAYON_ENV=production` turns on the checks that refuse unsafe values.
"""

import os
from pathlib import Path

import environ

from hayon.broker import (
    LOCAL_RABBITMQ_URL,
    choose_broker_url,
    file_broker_options,
    is_file_broker,
)

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(os.environ.get("HAYON_ENV_FILE", BASE_DIR / ".env"))

DEFAULT_SECRET_KEY = "hayon-development-only-secret-key-change-me"

HAYON_ENV = env.str("HAYON_ENV", default="development")
SECRET_KEY = env.str("SECRET_KEY", default=DEFAULT_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

HAYON_DATA_DIR = Path(env.str("HAYON_DATA_DIR", default=str(BASE_DIR / "data")))
HAYON_DATA_DIR.mkdir(parents=True, exist_ok=True)
HAYON_PUBLIC_URL = env.str("HAYON_PUBLIC_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "hayon.tokens",
    "media",
    "platforms",
    "posts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hayon.urls"
WSGI_APPLICATION = "hayon.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{HAYON_DATA_DIR / 'hayon.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("HAYON_DB_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share the file: wait for the writer instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "signin"
LOGIN_REDIRECT_URL = "posts:dashboard"
LOGOUT_REDIRECT_URL = "signin"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("HAYON_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing folder.
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
WHITENOISE_USE_FINDERS = True

# Security headers; HSTS and secure cookies only where TLS terminates in front of us.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
HAYON_HTTPS = env.bool("HAYON_HTTPS", default=False)
SESSION_COOKIE_SECURE = HAYON_HTTPS
CSRF_COOKIE_SECURE = HAYON_HTTPS
SECURE_HSTS_SECONDS = 31536000 if HAYON_HTTPS else 0

# Credentials of connected accounts are encrypted with these Fernet keys; the first encrypts,
# all decrypt, so a new key can be put in front while old rows are re-encrypted.
HAYON_CREDENTIALS_KEYS = env.list("HAYON_CREDENTIALS_KEYS", default=[])

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Both the legacy key of /api/auth/token/ and named keys from /api/tokens/.
        "hayon.tokens.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON parser, except that a body nested too deeply to read is a parse error.
    # JSON only: ids and texts are checked for their JSON types, which form data cannot carry.
    # POST /api/auth/token/ also takes form data (hayon/tokens/api.py).
    "DEFAULT_PARSER_CLASSES": ["hayon.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["hayon.throttles.UserThrottle", "hayon.throttles.TokenThrottle"],
    "DEFAULT_PAGINATION_CLASS": "hayon.pagination.Pagination",
    "PAGE_SIZE": env.int("HAYON_API_PAGE_SIZE", default=50),
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "hayon.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "hayon.api_errors.exception_handler",
}
HAYON_API_MAX_PAGE_SIZE = env.int("HAYON_API_MAX_PAGE_SIZE", default=200)

# Requests per user (all their sessions and tokens), per token, and password attempts per
# client address on /api/auth/token/: "<count>/<second|minute|hour|day>". Over it: 429.
HAYON_THROTTLE_RATES = {
    "user": env.str("HAYON_THROTTLE_USER", default="600/minute"),
    "token": env.str("HAYON_THROTTLE_TOKEN", default="300/minute"),
    "login": env.str("HAYON_THROTTLE_LOGIN", default="20/minute"),
}
# Throttle counters live in this cache: use Redis (redis://...) when several web processes
# run, or each counts on its own.
CACHES = {"default": env.cache("HAYON_CACHE_URL", default="locmemcache://")}

SPECTACULAR_SETTINGS = {
    "TITLE": "Hayon API",
    "DESCRIPTION": "Write a post once and publish it to six platforms, now or later.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components, so read-only fields are not asked for.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "PostStatusEnum": "posts.models.PostStatus",
        "DeliveryStatusEnum": "posts.models.DeliveryStatus",
        "AttemptOutcomeEnum": "posts.models.AttemptOutcome",
        "AccountHealthEnum": "platforms.models.AccountHealth",
        "PlatformEnum": "platforms.names.Platform",
    },
}

# Messaging. With no broker URL configured, use the local RabbitMQ when one answers and
# otherwise a file broker under the data folder (see hayon/broker.py for what that lacks).
CELERY_BROKER_URL = choose_broker_url(
    env.str("CELERY_BROKER_URL", default=""),
    HAYON_DATA_DIR,
    local_url=env.str("HAYON_LOCAL_RABBITMQ_URL", default=LOCAL_RABBITMQ_URL),
)
HAYON_FILE_BROKER = is_file_broker(CELERY_BROKER_URL)
if HAYON_FILE_BROKER:
    CELERY_BROKER_TRANSPORT_OPTIONS = file_broker_options(HAYON_DATA_DIR)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
# Celery beat's own scheduler, plus a heartbeat for its healthcheck (hayon/health.py).
CELERY_BEAT_SCHEDULER = "hayon.health:HeartbeatScheduler"

# Publishing and scheduling.
# The file broker cannot hold a message until its time, so there deliveries wait in the
# database until due and a more frequent dispatcher sends them then (docs/operations.md).
HAYON_DISPATCH_HORIZON = env.int("HAYON_DISPATCH_HORIZON", default=0 if HAYON_FILE_BROKER else 900)
HAYON_DISPATCH_INTERVAL = env.float(
    "HAYON_DISPATCH_INTERVAL", default=5.0 if HAYON_FILE_BROKER else 30.0
)
HAYON_LOST_MESSAGE_GRACE = env.int("HAYON_LOST_MESSAGE_GRACE", default=120)
HAYON_SCHEDULE_GRACE = env.int("HAYON_SCHEDULE_GRACE", default=60)
HAYON_MAX_SCHEDULE_DAYS = env.int("HAYON_MAX_SCHEDULE_DAYS", default=365)
HAYON_RETRY_DELAYS = [float(d) for d in env.list("HAYON_RETRY_DELAYS", default=["5", "30", "120"])]
HAYON_RETRY_JITTER = env.float("HAYON_RETRY_JITTER", default=0.2)
HAYON_PLATFORM_TIMEOUT = env.float("HAYON_PLATFORM_TIMEOUT", default=30.0)
HAYON_STUCK_AFTER = env.int("HAYON_STUCK_AFTER", default=900)

# Media (see docs/media.md). With no bucket, uploads go to the local backend under
# HAYON_MEDIA_ROOT through app-signed URLs; with one, browsers upload straight to S3 or any
# S3-compatible store. Credentials left empty fall back to boto3's own chain (AWS_* names,
# instance roles).
HAYON_MEDIA_ROOT = Path(env.str("HAYON_MEDIA_ROOT", default=str(HAYON_DATA_DIR / "media")))
HAYON_MEDIA_MAX_BYTES = env.int("HAYON_MEDIA_MAX_BYTES", default=20_000_000)
HAYON_MEDIA_UPLOAD_TTL = env.int("HAYON_MEDIA_UPLOAD_TTL", default=900)
HAYON_MEDIA_FETCH_TTL = env.int("HAYON_MEDIA_FETCH_TTL", default=7 * 24 * 3600)
HAYON_MEDIA_CORS_ORIGINS = env.list("HAYON_MEDIA_CORS_ORIGINS", default=[HAYON_PUBLIC_URL])
HAYON_S3_BUCKET = env.str("HAYON_S3_BUCKET", default="")
HAYON_S3_ENDPOINT_URL = env.str("HAYON_S3_ENDPOINT_URL", default="")
HAYON_S3_PUBLIC_ENDPOINT_URL = env.str("HAYON_S3_PUBLIC_ENDPOINT_URL", default="")
HAYON_S3_PUBLIC_URL = env.str("HAYON_S3_PUBLIC_URL", default="").rstrip("/")
HAYON_S3_REGION = env.str("HAYON_S3_REGION", default="us-east-1")
HAYON_S3_ACCESS_KEY_ID = env.str("HAYON_S3_ACCESS_KEY_ID", default="")
HAYON_S3_SECRET_ACCESS_KEY = env.str("HAYON_S3_SECRET_ACCESS_KEY", default="")
HAYON_S3_ADDRESSING_STYLE = env.str(
    "HAYON_S3_ADDRESSING_STYLE", default="path" if HAYON_S3_ENDPOINT_URL else "auto"
)

# Platforms.
HAYON_BLUESKY_SERVICE_URL = env.str("HAYON_BLUESKY_SERVICE_URL", default="https://bsky.social")
HAYON_BLUESKY_WEB_URL = env.str("HAYON_BLUESKY_WEB_URL", default="https://bsky.app")

# Fetching URLs people give us (link-card pages and images, Mastodon instances): public
# http(s) addresses on ports 80/443 only (hayon/safe_http.py). Turning ALLOW_PRIVATE on also
# allows loopback and private networks on any port: for tests and single-machine setups only.
HAYON_FETCH_ALLOW_PRIVATE = env.bool("HAYON_FETCH_ALLOW_PRIVATE", default=False)
HAYON_FETCH_TIMEOUT = env.float("HAYON_FETCH_TIMEOUT", default=5.0)
HAYON_FETCH_MAX_BYTES = env.int("HAYON_FETCH_MAX_BYTES", default=2_000_000)
# Bluesky posts whose only link has no media get a card from the page's Open Graph data.
HAYON_BLUESKY_LINK_CARDS = env.bool("HAYON_BLUESKY_LINK_CARDS", default=True)

# Meta (Facebook Pages, Instagram, Threads) and Tumblr; see docs/connecting-accounts.md.
# The API URLs are settings so tests and staging can point at fake or recorded servers.
HAYON_GRAPH_API_URL = env.str("HAYON_GRAPH_API_URL", default="https://graph.facebook.com/v23.0")
HAYON_META_DIALOG_URL = env.str(
    "HAYON_META_DIALOG_URL", default="https://www.facebook.com/v23.0/dialog/oauth"
)
HAYON_META_APP_ID = env.str("HAYON_META_APP_ID", default="")
HAYON_META_APP_SECRET = env.str("HAYON_META_APP_SECRET", default="")
HAYON_META_REDIRECT_URL = env.str("HAYON_META_REDIRECT_URL", default="")
HAYON_INSTAGRAM_API_URL = env.str(
    "HAYON_INSTAGRAM_API_URL", default="https://graph.instagram.com/v23.0"
)
HAYON_INSTAGRAM_AUTHORIZE_URL = env.str(
    "HAYON_INSTAGRAM_AUTHORIZE_URL", default="https://www.instagram.com/oauth/authorize"
)
HAYON_INSTAGRAM_TOKEN_URL = env.str(
    "HAYON_INSTAGRAM_TOKEN_URL", default="https://api.instagram.com/oauth/access_token"
)
HAYON_INSTAGRAM_APP_ID = env.str("HAYON_INSTAGRAM_APP_ID", default="")
HAYON_INSTAGRAM_APP_SECRET = env.str("HAYON_INSTAGRAM_APP_SECRET", default="")
HAYON_INSTAGRAM_REDIRECT_URL = env.str("HAYON_INSTAGRAM_REDIRECT_URL", default="")
HAYON_THREADS_API_URL = env.str("HAYON_THREADS_API_URL", default="https://graph.threads.net/v1.0")
HAYON_THREADS_AUTHORIZE_URL = env.str(
    "HAYON_THREADS_AUTHORIZE_URL", default="https://threads.net/oauth/authorize"
)
HAYON_THREADS_APP_ID = env.str("HAYON_THREADS_APP_ID", default="")
HAYON_THREADS_APP_SECRET = env.str("HAYON_THREADS_APP_SECRET", default="")
HAYON_THREADS_REDIRECT_URL = env.str("HAYON_THREADS_REDIRECT_URL", default="")
HAYON_TUMBLR_API_URL = env.str("HAYON_TUMBLR_API_URL", default="https://api.tumblr.com")
HAYON_TUMBLR_AUTHORIZE_URL = env.str(
    "HAYON_TUMBLR_AUTHORIZE_URL", default="https://www.tumblr.com/oauth2/authorize"
)
HAYON_TUMBLR_CLIENT_ID = env.str("HAYON_TUMBLR_CLIENT_ID", default="")
HAYON_TUMBLR_CLIENT_SECRET = env.str("HAYON_TUMBLR_CLIENT_SECRET", default="")
HAYON_TUMBLR_REDIRECT_URL = env.str("HAYON_TUMBLR_REDIRECT_URL", default="")
# Containers (Instagram, Threads) are polled this long within one attempt, then the attempt
# retries later and picks up the same container.
HAYON_CONTAINER_POLL_SECONDS = env.float("HAYON_CONTAINER_POLL_SECONDS", default=60.0)
HAYON_CONTAINER_POLL_INTERVAL = env.float("HAYON_CONTAINER_POLL_INTERVAL", default=3.0)
# When a daily publishing quota is used up, try again this much later.
HAYON_QUOTA_RETRY_SECONDS = env.int("HAYON_QUOTA_RETRY_SECONDS", default=3600)
# Token upkeep (platforms/tasks.py): how often it runs and how long before expiry it renews.
HAYON_TOKEN_UPKEEP_INTERVAL = env.float("HAYON_TOKEN_UPKEEP_INTERVAL", default=3600.0)
HAYON_META_TOKEN_REFRESH_LEAD = env.int("HAYON_META_TOKEN_REFRESH_LEAD", default=7 * 24 * 3600)
HAYON_TUMBLR_TOKEN_REFRESH_LEAD = env.int("HAYON_TUMBLR_TOKEN_REFRESH_LEAD", default=600)

# Heartbeats of the worker and beat, read by `python -m hayon.health heartbeat` (compose
# healthchecks). Keep the folder private to one container: a shared one would let a live
# worker hide a dead one.
HAYON_HEARTBEAT_DIR = env.str("HAYON_HEARTBEAT_DIR", default="/tmp/hayon-heartbeat")  # noqa: S108
HAYON_HEARTBEAT_INTERVAL = env.float("HAYON_HEARTBEAT_INTERVAL", default=10.0)
HAYON_HEARTBEAT_MAX_AGE = env.float("HAYON_HEARTBEAT_MAX_AGE", default=60.0)

HAYON_LOG_FORMAT = env.str("HAYON_LOG_FORMAT", default="text")
HAYON_LOG_LEVEL = env.str("HAYON_LOG_LEVEL", default="INFO")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "filters": {"ids": {"()": "hayon.logging.IdFields"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": HAYON_LOG_FORMAT,
            "filters": ["ids"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        name: {"level": HAYON_LOG_LEVEL, "propagate": True}
        for name in ("hayon", "posts", "platforms", "media")
    },
}
if HAYON_LOG_FORMAT == "json":
    # Celery's worker and beat replace the root handlers with their own text format unless
    # told not to; in JSON mode every line, Celery's included, goes through LOGGING above.
    CELERY_WORKER_HIJACK_ROOT_LOGGER = False
    LOGGING["loggers"]["celery"] = {"level": "INFO", "propagate": True}

from hayon.checks import check_production_settings, check_sqlite_version  # noqa: E402

check_production_settings(globals())
check_sqlite_version(globals())
