"""Hayon's settings, read from the environment.

Every value has a default that runs on one machine from a fresh clone (SQLite, the local
RabbitMQ or a file broker, local media). The production profile is described in
docs/operations.md; `HAYON_ENV=production` turns on the checks that refuse unsafe values.
"""

import os
from pathlib import Path

import environ

from hayon.broker import choose_broker_url, file_broker_options

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
LOGIN_URL = "/admin/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
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
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("HAYON_API_PAGE_SIZE", default=50),
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "hayon.api_errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Hayon API",
    "DESCRIPTION": "Write a post once and publish it to six platforms, now or later.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Messaging. With no broker URL configured, use the local RabbitMQ when one answers and
# otherwise a file broker under the data folder (see hayon/broker.py for what that lacks).
CELERY_BROKER_URL = choose_broker_url(env.str("CELERY_BROKER_URL", default=""), HAYON_DATA_DIR)
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = file_broker_options(HAYON_DATA_DIR)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"

# Publishing and scheduling.
HAYON_DISPATCH_HORIZON = env.int("HAYON_DISPATCH_HORIZON", default=900)
HAYON_DISPATCH_INTERVAL = env.float("HAYON_DISPATCH_INTERVAL", default=30.0)
HAYON_LOST_MESSAGE_GRACE = env.int("HAYON_LOST_MESSAGE_GRACE", default=120)
HAYON_SCHEDULE_GRACE = env.int("HAYON_SCHEDULE_GRACE", default=60)
HAYON_MAX_SCHEDULE_DAYS = env.int("HAYON_MAX_SCHEDULE_DAYS", default=365)
HAYON_RETRY_DELAYS = [float(d) for d in env.list("HAYON_RETRY_DELAYS", default=["5", "30", "120"])]
HAYON_RETRY_JITTER = env.float("HAYON_RETRY_JITTER", default=0.2)
HAYON_PLATFORM_TIMEOUT = env.float("HAYON_PLATFORM_TIMEOUT", default=30.0)
HAYON_HELD_RETRY_LIMIT = env.int("HAYON_HELD_RETRY_LIMIT", default=900)

# Platforms.
HAYON_BLUESKY_SERVICE_URL = env.str("HAYON_BLUESKY_SERVICE_URL", default="https://bsky.social")
HAYON_BLUESKY_WEB_URL = env.str("HAYON_BLUESKY_WEB_URL", default="https://bsky.app")

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
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": HAYON_LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        name: {"level": HAYON_LOG_LEVEL, "propagate": True}
        for name in ("hayon", "posts", "platforms", "media")
    },
}

from hayon.checks import check_production_settings  # noqa: E402

check_production_settings(globals())
