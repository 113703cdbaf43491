"""Django settings for jamjar, read from the environment with defaults that run.

Environment variables (all optional):

- ``DATABASE_URL``: ``sqlite:///path/db.sqlite3`` (default: ``db.sqlite3`` beside manage.py)
  or ``mysql://root@127.0.0.1:3306/jamjar`` for MySQL/MariaDB (utf8mb4).
- ``DATABASE_REPLICA_URLS``: comma-separated URLs of read replicas of DATABASE_URL; catalogue
  lookups go to them (jamjar_site/routers.py).
- ``DATABASE_REPLICA_MAX_LAG_S``: a replica further behind than this, in seconds (default 30),
  or whose replication has stopped, is left out of catalogue reads until it has caught up.
- ``DATABASE_REPLICA_PIN_S``: after a request writes to the catalogue, the same client reads it
  from the primary for this many whole seconds (a cookie; default 5, 0 for none).
- ``REDIS_URL``: ``redis://127.0.0.1:6379/0`` switches the Channels layer to Redis.
- ``CELERY_BROKER_URL``: ``redis://127.0.0.1:6379/1`` runs batches (admin uploads,
  re-fingerprinting, ``fingerprint_dir --queue``) on Celery workers; needs REDIS_URL too.
- ``SECRET_KEY``: required unless ``DEBUG`` is on.
- ``DEBUG``: ``1``/``true`` to turn debug on (off by default).
- ``ALLOWED_HOSTS``: comma-separated, default ``localhost,127.0.0.1``.
- ``MEDIA_ROOT``: where uploaded tracks are stored, default ``media/`` beside manage.py.
- ``NUM_PROXIES``: reverse proxies in front of the server (default 0), for the API's throttle.
- ``SECURE_SSL_REDIRECT``, ``SECURE_COOKIES``: ``1`` behind https (redirect http, cookies
  sent over https only); ``SECURE_HSTS_SECONDS``: Strict-Transport-Security max-age (0: off);
  ``SECURE_PROXY_SSL_HEADER``: ``X-Forwarded-Proto`` to trust the proxy's word on https.
- ``JAMJAR``, ``JAMJAR_FINGERPRINT``: JSON objects of settings (recognition/conf.py).
- ``JAMJAR_INDEX_DIR``: a folder for the catalogue's hash index in files (``manage.py
  build_index``); lookups read it when it exists, and the database for what changed since.

Each may also be a line of ``.env`` beside manage.py (python-dotenv; the environment wins).
"""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent

# scripts/run writes .env (SECRET_KEY, DEBUG, DATABASE_URL) so that every manage.py command
# runs in a fresh shell; variables already in the environment win.  JAMJAR_ENV_FILE names
# another file, or "" for none (the test suite).
ENV_FILE = os.environ.get("JAMJAR_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    load_dotenv(ENV_FILE, override=False)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY in the environment, or DEBUG=1 for a "
            "throwaway development key."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name) or str(default)
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or (minimum is not None and number < minimum):
        at_least = "" if minimum is None else f", {minimum} or more"
        raise ImproperlyConfigured(f"{name}={value!r}: expected a whole number{at_least}")
    return number


# https: all off by default so that a plain-http development server works; the README's
# production example turns them on (and `manage.py check --deploy` is then clean).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
# Asking to be preloaded is the site owner's choice (and hard to undo), not a fault to warn of.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES")
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    # The header a proxy sets to say the client used https, e.g. X-Forwarded-Proto.
    _header = os.environ["SECURE_PROXY_SSL_HEADER"].strip().upper().replace("-", "_")
    SECURE_PROXY_SSL_HEADER = (_header if _header.startswith("HTTP_") else f"HTTP_{_header}", "https")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "catalog",
    "recognition",
    "tracklists",
    # Tooling, not the product: the evaluate and benchmark commands.
    "recognition.evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside ApiErrorMiddleware, which may answer with a response of its own.
    "jamjar_site.routers.PrimaryPinMiddleware",
    "jamjar_site.middleware.ApiErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "jamjar_site.urls"

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

WSGI_APPLICATION = "jamjar_site.wsgi.application"
ASGI_APPLICATION = "jamjar_site.asgi.application"


def database(url: str) -> dict:
    """One DATABASES entry from a URL, with the options jamjar relies on."""
    config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")))
    options = config.setdefault("OPTIONS", {})
    if config["ENGINE"] == "django.db.backends.mysql":
        options.setdefault("charset", "utf8mb4")
        # A hash lookup gets each hash's rows as one string (catalog.selectors): up to 1 GB of
        # it, not the default 1 MB (a popular hash of a 100 M-row catalogue draws more).
        options.setdefault("init_command", "SET SESSION group_concat_max_len = 1073741824")
        config["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    elif config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers (the matcher) go on while an ingest writes.
        options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        options.setdefault("timeout", 30)
    return config


DATABASES = {"default": database(os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Read replicas of the primary (README "Scaling out"): catalogue lookups go to them
# (jamjar_site/routers.py), writes to the primary.
for _number, _url in enumerate(env_list("DATABASE_REPLICA_URLS", []), start=1):
    _replica = DATABASES[f"replica{_number}"] = database(_url)
    if _replica["ENGINE"] == "django.db.backends.mysql":
        # A replica that is down is found out in 2 s, not the client's default of minutes.
        _replica["OPTIONS"].setdefault("connect_timeout", 2)
    # Tests read the replica as the test database itself (no copy is made for it).
    _replica["TEST"] = {"MIRROR": "default"}
if len(DATABASES) > 1:
    DATABASE_ROUTERS = ["jamjar_site.routers.ReplicaRouter"]


def env_seconds(name: str, default: float) -> float:
    value = os.environ.get(name) or str(default)
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds >= 0:
        raise ImproperlyConfigured(f"{name}={value!r}: expected a number of seconds, 0 or more")
    return seconds


# A replica further behind the primary than this (Seconds_Behind_Master), or whose replication
# has stopped, is left out of catalogue reads until it has caught up (jamjar_site/routers.py).
DATABASE_REPLICA_MAX_LAG_S = env_seconds("DATABASE_REPLICA_MAX_LAG_S", 30.0)
# After a request writes to the catalogue, the same client's requests read it from the primary
# for this many seconds (a cookie; jamjar_site/routers.py), so that they see the write while
# the replicas catch up.  0: no cookie.
DATABASE_REPLICA_PIN_S = env_int("DATABASE_REPLICA_PIN_S", 5, minimum=0)


def redis_cache(url: str) -> dict:
    """Django's cache on Redis: short timeouts, so while Redis is down a request is answered 503 at once."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "jamjar",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }


REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 gives sockets a 5 s read timeout by default, shorter than the
            # layer's own blocking pop: every idle consumer would crash after 5 s (1011).
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}]},
        }
    }
    # Live-session and rate counts (recognition/limits.py) and the API's throttle, shared by
    # every process; so is the progress of batches (catalog/jobs.py).
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # This process's own memory.  A batch keeps an entry per item (catalog/jobs.py): room
    # for the largest, where Django's default of 300 entries would drop some.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# Batches of catalogue work on Celery workers (jamjar_site/celery.py, catalog/jobs.py), e.g.
# CELERY_BROKER_URL=redis://127.0.0.1:6379/1.  Unset: batches run in the process that starts them.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
# A task is acknowledged when done, so a worker that dies mid-item gives it back to the queue,
# and a worker takes one task at a time, so a second worker shares even a short batch.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True  # progress is in the cache (catalog/jobs.py), not in results
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# The catalogue's hash index in files (catalog/index.py): empty for none.
JAMJAR_INDEX_DIR = os.environ.get("JAMJAR_INDEX_DIR", "")

# Admin uploads of whole tracks: keep large bodies on disk, not in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", 110 * 1024 * 1024))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Fingerprint engine parameters: see recognition/engine/params.py for every key, its default
# and unit.  Service settings (matching, live sessions, API limits): recognition/conf.py.
# Both can also be given as JSON objects in the environment, e.g.
# JAMJAR='{"max_sessions_per_client": 64}'.
def env_json_object(name: str) -> dict:
    """A JSON object from the environment; invalid JSON is an error that names the variable."""
    text = os.environ.get(name) or "{}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(
            f"{name} is not valid JSON ({exc}): write it as {name}='{{\"key\": value}}'"
        ) from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object of settings, not {type(value).__name__}")
    return value


JAMJAR_FINGERPRINT: dict = env_json_object("JAMJAR_FINGERPRINT")
JAMJAR: dict = env_json_object("JAMJAR")
# Track lists and the stream monitor (tracklists/conf.py).
JAMJAR_TRACKLIST: dict = env_json_object("JAMJAR_TRACKLIST")

# Content-Security-Policy on every response (django-csp): only this server's own scripts,
# styles, images and websocket; no inline code, no frames, no plugins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# The REST API under /api/ (README "API").  Access rules, upload limits and the anonymous
# recognition rate are JAMJAR keys (api_*), read per request; this is DRF's wiring.
REST_FRAMEWORK = {
    # Token first: an anonymous request is then told 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["catalog.permissions.CatalogueAccess"],
    "DEFAULT_PAGINATION_CLASS": "jamjar_site.api.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "jamjar_site.api.exception_handler",
    # Proxies in front of the server: the throttle then reads the client's address from
    # X-Forwarded-For.  0 trusts REMOTE_ADDR only, so a client cannot name its own address.
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "jamjar API",
    "DESCRIPTION": "Song recognition and the catalogue behind it.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package: no CDN at run time.  (Redoc is
    # not served: its page loads fonts from Google.)
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "jamjar": {"handlers": ["console"], "level": os.environ.get("JAMJAR_LOG_LEVEL", "WARNING")},
        # The request id of a JSON 500 is on this logger's line, with the traceback.
        "jamjar.api": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
