"""Settings for the 低保复核 system: one file, driven by the environment.

Environment variables (the README's tables give every one, with defaults):
  DEBUG          "1"/"true" for development (default off).
  SECRET_KEY     required when DEBUG is off.
  DATABASE_URL   e.g. postgres://user:pass@host:5432/dibao; SQLite file when unset.
  ALLOWED_HOSTS  comma-separated host names (default: localhost names).
  PROXY_COUNT    1 behind the town's HTTPS reverse proxy (which sets X-Forwarded-Proto/-For).
  CACHE_BACKEND  "database" (shared by every worker; scripts/serve.sh sets it) or "locmem".
  EXPORT_ROOT, EXPORT_KEEP_DAYS, EXPORT_STALL_MINUTES, EXPORT_CHUNK_SIZE: batch PDFs (see below).
  SECURE_COOKIES, SECURE_SSL_REDIRECT, SECURE_HSTS_*: HTTPS settings, see "HTTPS" below.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DEBUG")

# No fallback with DEBUG off: the WSGI application refuses to start without a key
# (dibao/wsgi.py), and Django refuses to sign anything with an empty one. Offline
# commands such as `makemigrations --check` still load the settings.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "development-only-insecure-key"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "cases",
    "surveys",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise: static files need no policy of their own, pages do.
    "csp.middleware.CSPMiddleware",
    # PostgreSQL plans a page's reads once per connection (prepared statements)
    "cases.middleware.PreparedReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cases.middleware.PersonalDataMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dibao.urls"

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
                "cases.context_processors.role",
                "reports.context_processors.downloads",
            ],
        },
    },
]

WSGI_APPLICATION = "dibao.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
        # A kept connection is checked before a request reuses it, so that after a database
        # restart each worker reconnects instead of failing its next request. (The check runs
        # on the raw connection: query-count tests do not see it.)
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles any query whose estimated cost is high; for the
    # county-wide aggregates here it spent 0.5 s compiling a 0.2 s query.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Reads run as prepared statements on PostgreSQL (cases.prepared). Off behind a pooler that
# gives each transaction another server connection (PgBouncer in transaction mode).
PREPARED_STATEMENTS = env_flag("PREPARED_STATEMENTS", True)

# Production runs several gunicorn worker processes: whatever one of them caches, the others
# must see, so scripts/serve.sh selects the database cache (its table is made by
# `createcachetable`). Development and tests keep the per-process memory cache.
if os.environ.get("CACHE_BACKEND", "locmem") == "database":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "dibao_cache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in throttling (django-axes, counted in the database, so every worker process
# sees the same count): 5 wrong passwords for one account, or from one address, lock
# it for 15 minutes. The same counter guards the password an investigator types to
# sign on someone else's device, and it is checked before the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that reads the account with its profile in one statement (every request)
    "cases.auth.AccountBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("LOGIN_LOCK_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind the HTTPS proxy (PROXY_COUNT=1), the client address is the one the proxy
# appended to X-Forwarded-For; without a proxy the header is ignored, as anyone can send it.
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "cases.middleware.client_ip"

# Shared village phones: a session ends after this many idle minutes, and with the browser.
# (cases.middleware renews it at most once a minute, not with a write on every request.)
SESSION_COOKIE_AGE = 60 * int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Django's database sessions, read by a statement compiled once
SESSION_ENGINE = "cases.sessions"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Third-party browser assets come from npm (package.json), never from a CDN.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Background jobs (batch PDFs): django-tasks with its database backend. The queue is a table;
# `manage.py db_worker` is the worker process (`make run` and scripts/serve.sh start it).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Generated files live outside STATIC_ROOT and are never served by path: the download view
# checks who asks. They are deleted this many days after they were made (`cleanup_exports`,
# also run by the worker after each job).
EXPORT_ROOT = Path(os.environ.get("EXPORT_ROOT") or BASE_DIR / "var" / "exports")
EXPORT_KEEP_DAYS = int(os.environ.get("EXPORT_KEEP_DAYS", "7"))
# A running job reports progress after each chunk; one silent for this long lost its worker
# (killed, machine restarted) and may be started again.
EXPORT_STALL_MINUTES = int(os.environ.get("EXPORT_STALL_MINUTES", "5"))
# Households a batch reads and renders at a time (memory holds one chunk; each is ~10 queries).
EXPORT_CHUNK_SIZE = int(os.environ.get("EXPORT_CHUNK_SIZE", "25"))

# Rows per page of every list.
LIST_PAGE_SIZE = 30
# Searches by ID number an hour for roles that may not see full numbers (each one is recorded).
ID_SEARCHES_PER_HOUR = int(os.environ.get("ID_SEARCHES_PER_HOUR", "10"))

# Uploads: the roll import refuses larger files with a clear message.
IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_ROWS = 20000
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024
# The largest request body at all, refused with 413 before Django reads it (dibao/wsgi.py):
# the import file with room for the form around it. (Django's own limits leave out file parts.)
REQUEST_MAX_BYTES = IMPORT_MAX_BYTES + 1024 * 1024
# The survey form posts 28 fields per household member plus about 90 others (its blank rows
# included): a household of 20 posts about 650, and Django's default of 1,000 allows 32 members
# (tests/deploy/test_request_limits.py).
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# --- HTTPS -------------------------------------------------------------------------------
# In production the town's reverse proxy (nginx) terminates TLS and forwards to gunicorn on
# 127.0.0.1 with X-Forwarded-Proto and X-Forwarded-For; PROXY_COUNT=1 says so. Only then is
# X-Forwarded-Proto believed: anyone can send it to a server that is reached directly.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PROXY_COUNT else None
# Plain-HTTP requests are redirected to HTTPS behind the proxy (the local health check excepted).
SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", not DEBUG and PROXY_COUNT > 0)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Browsers remember to use HTTPS only (the header is sent on HTTPS responses only). A year,
# subdomains included; "preload" has no effect until someone submits the name to the browsers'
# list, which an intranet name never is. Set SECURE_HSTS_SECONDS=0 before moving off HTTPS.
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_flag("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_flag("SECURE_COOKIES", True)

# Content-Security-Policy (django-csp 4): only the site's own files, no inline script at all.
# Styles: the site's own stylesheets, plus style="" attributes (style-src-attr), which the
# coverage page's progress bars (a width per village) and the bare 500 page use. An attribute
# can only restyle its own element; <style> elements and inline script stay refused.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        # Bootstrap draws its check marks and menu icon as data: SVG images.
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
