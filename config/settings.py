"""Settings for the party review application: one module, configured from the environment.

Development needs nothing: SQLite in the project folder, DEBUG on, a throwaway secret key.
Production sets DJANGO_DEBUG=0, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL; with DEBUG
off a missing secret is an error at start-up, never a default, and the demo app is not installed.
On PostgreSQL, DATABASE_URL is the application's role and DATABASE_OWNER_URL, given to `migrate` only, the
role that owns the tables (see "Two database roles" in the README).
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def envlist(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off")
    SECRET_KEY = "development-only-key-never-used-in-production-0123456789abcdefghijkl"

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "treebeard",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "organizations",
    "members",
    "jobs",
    "assessments",
    "portal",
]

# The demo (demo/: seed_demo, seed_reviews and their data) is for development and the tests: installed
# when DEBUG is on or under pytest, so that production (DJANGO_DEBUG=0) has no command that replaces the
# data. DJANGO_DEMO=1 installs it with DEBUG off too, for a throwaway database only (bench/load.sh);
# DJANGO_DEMO=0 leaves it out in development.
DEMO = envbool("DJANGO_DEMO", DEBUG or "pytest" in sys.modules)
if DEMO:
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the page that says when to try again.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "organizations.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# SQLite is the zero-setup default; DATABASE_URL (postgres://user:pass@host/name) selects PostgreSQL.
# A persistent connection is checked before a request reuses it, so that one left broken by a database
# restart is replaced rather than failing the request (CONN_HEALTH_CHECKS; DJANGO_CONN_HEALTH_CHECKS=0 turns
# the check off, for bench/pg_restart.sh to show the difference only).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=envbool("DJANGO_CONN_HEALTH_CHECKS", True),
    )
}
# The role that owns the tables, for `migrate` only (assessments/management/commands/migrate.py): it connects
# as this role to the same database, then grants the role of DATABASE_URL what the application needs and no
# more (grant_app_privileges). Never in the application's own environment.
DATABASE_OWNER = (
    dj_database_url.parse(os.environ["DATABASE_OWNER_URL"]) if os.environ.get("DATABASE_OWNER_URL") else None
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Deleted and overwritten rows are zeroed in the file, not left in free space: the ballot's
    # counters and marks leave no old value behind (assessments/meetings/ballot.py, "Secrecy").
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA secure_delete = ON"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if os.environ.get("DJANGO_TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["DJANGO_TEST_DB_NAME"]}

# Read-only reports (statistics, exports) may read from a PostgreSQL streaming replica: DATABASE_REPLICA_URL,
# a role allowed to read it. config/routers.py sends there only the reads of code run inside
# `reports_on_replica()`; writes and everything else stay on the primary. Without a replica the alias is
# the primary itself (a mirror in the tests) and nothing is routed to it.
REPORTS_ON_REPLICA = bool(os.environ.get("DATABASE_REPLICA_URL"))
DATABASES["replica"] = (
    dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=DATABASES["default"].get("CONN_MAX_AGE", 0),
        conn_health_checks=DATABASES["default"].get("CONN_HEALTH_CHECKS", False),
    )
    if REPORTS_ON_REPLICA
    else {**DATABASES["default"]}
)
DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The forms' index holds the columns that subtrees are counted by (`include`, an index-only scan on
# PostgreSQL, the production database); SQLite builds the same index on its key columns only, which is
# all it needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Django's default list, plus one: the first hasher hashes every password; the second only the
# one-time codes printed for new member accounts, cheaper so that a city's 7,300 accounts are made in
# seconds, and safe for random codes that are replaced at the first sign-in (accounts/hashers.py).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "accounts.hashers.InitialCodePasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sign-in: axes' backend first, so that every sign-in form (the site's, the admin's) is limited before
# a password is checked; then the accounts (accounts.backends: Django's, with one-time codes checked
# as printed and never re-hashed as typed).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.AccountBackend",
]

# Failed sign-ins allowed within LOGIN_LOCK_MINUTES, per counter (accounts/throttle.py): one username
# from one address, one username from anywhere, one address for any username. The next attempt is
# refused, without checking the password, until LOGIN_LOCK_MINUTES after the last failure counted.
LOGIN_LOCK_MINUTES = int(os.environ.get("LOGIN_LOCK_MINUTES", "15"))
SIGNIN_LIMITS = {
    "username+ip_address": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
    "username": int(os.environ.get("LOGIN_MAX_FAILURES_PER_USERNAME", "20")),
    "ip_address": int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", "40")),
}
# Reverse proxies in front of the application (addresses or networks, e.g. "127.0.0.1"): the client's
# address is then read from the X-Forwarded-For header they append to. Empty: REMOTE_ADDR.
TRUSTED_PROXIES = envlist("DJANGO_TRUSTED_PROXIES")

AXES_ENABLED = True
AXES_HANDLER = "accounts.throttle.SignInHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username", "ip_address"]
AXES_FAILURE_LIMIT = SIGNIN_LIMITS["username+ip_address"]
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCK_MINUTES)
AXES_USERNAME_CALLABLE = "accounts.throttle.username_key"
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.views.signin_paused"
# A success clears that username's failures from that address only (the handler), not the address's.
AXES_RESET_ON_SUCCESS = False
# Failures only: successful sign-ins and sign-outs are not logged, and axes' own admin is replaced by
# accounts.admin's (in the users' language, with the limits above).
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))

# WhiteNoise serves the collected static files in production (compressed, with hashed names).
# The plain storage while DEBUG is on: the manifest exists only after collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Sessions live in the database so that app servers stay stateless behind a load balancer.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# The cache: this process's memory on one server; DJANGO_CACHE=database puts it in a table of the database
# (`manage.py createcachetable`, which `migrate` runs), shared by every app server and worker.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}
        if os.environ.get("DJANGO_CACHE", "local") == "database"
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "party-review"}
    )
}
SESSION_COOKIE_AGE = 60 * 60 * 8

# Uploads (organizations/uploads.py reads every one within these limits). Sized for the largest
# legitimate import, a city's members: about 7,300 rows of 15 columns, an .xlsx of 0.5 MB holding
# 8 MB of XML, a CSV of 2 MB.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 5 * 1024 * 1024))
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", 20_000))  # the header row included
IMPORT_MAX_COLUMNS = int(os.environ.get("IMPORT_MAX_COLUMNS", 50))
IMPORT_MAX_LINE_CHARS = int(os.environ.get("IMPORT_MAX_LINE_CHARS", 10_000))  # one line of a CSV
IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES", 64 * 1024 * 1024))
IMPORT_XLSX_MAX_RATIO = int(os.environ.get("IMPORT_XLSX_MAX_RATIO", 100))  # per part: spreadsheets reach ~20
# Django's own: a form without its files at most 2.5 MB in memory; a file above 2.5 MB is spooled to
# a temporary file, not held in the worker's memory; and the first handler drops the bytes of a file
# beyond IMPORT_MAX_BYTES as they arrive (the view then says the file is too large).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "organizations.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Background jobs (jobs/): long work (opening a period, the year-end export) is queued in the database
# (django-tasks' database backend) and run by `manage.py db_worker`, as many processes on as many machines
# as wanted: each claims a task with SELECT ... FOR UPDATE SKIP LOCKED. `make run` starts one beside the
# web server; production runs them as their own service (README, "Deployment").
TASKS = {
    "default": {
        "BACKEND": os.environ.get("DJANGO_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# A job's files (the export's workbook) live here, outside the static and media that are served: they are
# sent only through the job's page, to those who may see the job.
JOBS_RESULTS_DIR = Path(os.environ.get("JOBS_RESULTS_DIR", BASE_DIR / "private" / "jobs"))
# A running job writes its heartbeat every JOBS_HEARTBEAT_SECONDS; one silent for JOBS_STALE_SECONDS lost
# its worker (killed, machine down) and is tried again (`jobs_recover`, and each worker before a job), at
# most JOBS_MAX_ATTEMPTS times in all, then marked failed.
JOBS_HEARTBEAT_SECONDS = int(os.environ.get("JOBS_HEARTBEAT_SECONDS", "5"))
# A job's progress is written at most this often (the page polls every 2 s).
JOBS_PROGRESS_SECONDS = float(os.environ.get("JOBS_PROGRESS_SECONDS", "1"))
JOBS_STALE_SECONDS = int(os.environ.get("JOBS_STALE_SECONDS", "120"))
JOBS_MAX_ATTEMPTS = int(os.environ.get("JOBS_MAX_ATTEMPTS", "3"))
# A database error that a reconnection may cure (a restart) is retried this many times within the job.
JOBS_DB_RETRIES = int(os.environ.get("JOBS_DB_RETRIES", "3"))
JOBS_DB_RETRY_DELAY = float(os.environ.get("JOBS_DB_RETRY_DELAY", "2"))
# A workbook of more members than a sheet holds (a country's) has its lists by part written by this many
# processes at once (assessments/outputs/parallel.py), on PostgreSQL; 1 writes them in the job's process.
EXPORT_PROCESSES = int(os.environ.get("EXPORT_PROCESSES", str(min(os.cpu_count() or 1, 4))))

EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "webmaster@localhost")

if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Only a load test on loopback turns these off (bench/load.sh); production keeps cookies on HTTPS.
    SESSION_COOKIE_SECURE = envbool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = envbool("DJANGO_SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = envbool("DJANGO_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts, styles, fonts and requests from the site itself only, no
# inline script or style anywhere (the templates use static files), images also as data: URIs (Bootstrap's
# icons), no plug-ins, no <base>, forms posted to the site only, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Permissions-Policy (config/middleware.py): the browser features the site never uses, refused to every
# origin, the site included.
PERMISSIONS_POLICY = [
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
