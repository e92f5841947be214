"""Settings for the reducing-reoffending case management system.

Everything that differs between a laptop demo, the test suite and production
comes from the environment: DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG,
LOCAL_DEVELOPMENT, ALLOWED_HOSTS. With none set the app runs on an embedded SQLite file with
Celery tasks executed in-process, so a newcomer needs no servers.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default=False):
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DEBUG")
# The conveniences of a laptop, which production never has: a fixed secret key, plain HTTP, static
# files served from the source folders, emails printed to the console and `demo_code` printing
# security codes. The demo runs with this and DEBUG off, so a newcomer sees the service's own error
# pages; DEBUG=1 (Django's error pages with tracebacks) implies it.
LOCAL_DEVELOPMENT = env_flag("LOCAL_DEVELOPMENT", default=DEBUG)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not LOCAL_DEVELOPMENT:
        raise ImproperlyConfigured("Set SECRET_KEY (or LOCAL_DEVELOPMENT=1 on a laptop).")
    SECRET_KEY = "insecure-local-development-key"  # noqa: S105 - only ever used in local development

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "django_celery_beat",
    "pgtrigger",
    "pghistory",
    "web",
    "accounts",
    "cases",
    "pathways",
    "panels",
    "risk",
    "resettlement",
    "dashboard",
    "delivery",
    "alerts",
    "history",
    "feeds",
    "evaluation",
    "webhooks",
    "synthetic",
    "operations",
    "django_prometheus",
]

MIDDLEWARE = [
    # Probes and the metrics scraper call a pod's own address over plain HTTP: answered before the
    # host check and the HTTPS redirect.
    "operations.health.HealthCheckMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Lock and statement timeouts and an unreachable database become a clear 409 or 503.
    "operations.middleware.DatabaseTroubleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "reoffending.security.IdleTimeoutMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "reoffending.security.RequireTwoFactorMiddleware",
    # Who made each change, for the field-level history of people, memberships, actions and referrals.
    "history.middleware.ChangeHistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Outside the lockout, so a locked-out sign-in is counted with the status it was answered with.
    # Dashboards, exports and measures read from the replica, when there is one.
    "operations.routers.ReplicaReadsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, so it can answer for a sign-in that the lockout refused.
    "axes.middleware.AxesMiddleware",
]

# Only requests that change things carry the history context (reads would only pay for it).
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

ROOT_URLCONF = "reoffending.urls"
WSGI_APPLICATION = "reoffending.wsgi.application"

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
                "web.context_processors.navigation",
                "alerts.context_processors.alert_count",
            ],
        },
    },
]
FORM_RENDERER = "web.forms.GovukFormRenderer"

# Bounded waits on every connection. A web request that meets a row lock held elsewhere gives up
# after DB_LOCK_TIMEOUT and the user is told someone else is saving the record (operations.middleware);
# no statement runs longer than DB_STATEMENT_TIMEOUT, well inside gunicorn's worker timeout; and a
# transaction left open and idle is ended by the server. Roll-ups, bulk imports and exports raise the
# first two where they run (operations.database.long_running_queries); `manage.py` commands run by
# an operator (migrations, generators) are not cut short (manage.py).
DB_STATEMENT_TIMEOUT = os.environ.get("DB_STATEMENT_TIMEOUT", "30s")
DB_LOCK_TIMEOUT = os.environ.get("DB_LOCK_TIMEOUT", "3s")
DB_IDLE_IN_TRANSACTION_TIMEOUT = os.environ.get("DB_IDLE_IN_TRANSACTION_TIMEOUT", "60s")
DB_LONG_STATEMENT_TIMEOUT = os.environ.get("DB_LONG_STATEMENT_TIMEOUT", "30min")
DB_LONG_LOCK_TIMEOUT = os.environ.get("DB_LONG_LOCK_TIMEOUT", "30s")


def database(url):
    config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")))
    # A reused connection is checked before the first query of each request, so the first request
    # after a database restart or failover reconnects instead of failing on a dead connection.
    config["CONN_HEALTH_CHECKS"] = True
    if config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})["options"] = " ".join([
            # The case list's plans cross PostgreSQL's jit_above_cost, and compiling them took 2-3 s
            # per query on 100,000 people while saving nothing: these are short queries, not analytics.
            "-c jit=off",
            f"-c statement_timeout={DB_STATEMENT_TIMEOUT}",
            f"-c lock_timeout={DB_LOCK_TIMEOUT}",
            f"-c idle_in_transaction_session_timeout={DB_IDLE_IN_TRANSACTION_TIMEOUT}",
            # A query whose client has gone (a gunicorn worker killed at its timeout) is stopped
            # within seconds instead of running on to its statement timeout.
            "-c client_connection_check_interval=5s",
        ])
        config["OPTIONS"]["application_name"] = os.environ.get("DB_APPLICATION_NAME", "reoffending")
        # A server that does not answer at all (a dropped route, a failover in progress) is given
        # up on in seconds, like one that refuses.
        config["OPTIONS"]["connect_timeout"] = int(os.environ.get("DB_CONNECT_TIMEOUT", "5"))
        # Choice lists and other small iterator() reads are fetched in one round trip rather than
        # through a DECLARE ... WITH HOLD cursor (three round trips); this also suits PgBouncer.
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config


DATABASES = {"default": database(os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
# An optional streaming replica: dashboards, exports and the measures API read from it
# (operations.routers); everything else, and anything after a write, from the primary.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = database(os.environ["DATABASE_REPLICA_URL"])
    # Tests read the replica through the test database, which replication brings to it.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["operations.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "cases.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out account is refused before its password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Staff are never anonymous; guardian need not create an anonymous user.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # case list for case workers, dashboard for analysts
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d %m %Y"]

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("govuk/assets", BASE_DIR / "node_modules/govuk-frontend/dist/govuk/assets"),
    ("moj/assets", BASE_DIR / "node_modules/@ministryofjustice/frontend/moj/assets"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if LOCAL_DEVELOPMENT
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = LOCAL_DEVELOPMENT

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# A task whose worker died (SIGKILL, the out-of-memory killer, a node eviction) is given back to the queue:
# at once when a pool child is lost, and by Redis after the visibility timeout when the whole worker is gone.
# The timeout must be longer than the longest task (a roll-up takes minutes; each of its statements may run
# up to DB_LONG_STATEMENT_TIMEOUT), or a task still running is handed to a second worker as well.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
BROKER_VISIBILITY_TIMEOUT = int(os.environ.get("BROKER_VISIBILITY_TIMEOUT", str(60 * 60)))
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": BROKER_VISIBILITY_TIMEOUT}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Roll-up runs write a heartbeat this often; one silent for ROLLUP_STALLED_AFTER_SECONDS lost its worker and is
# marked failed (by the Recalculate button and a sweep every five minutes), so a new run can start.
ROLLUP_HEARTBEAT_SECONDS = int(os.environ.get("ROLLUP_HEARTBEAT_SECONDS", "30"))
ROLLUP_STALLED_AFTER_SECONDS = int(os.environ.get("ROLLUP_STALLED_AFTER_SECONDS", str(5 * 60)))
# A change is taken into the figures by an incremental run this long after it commits (a burst shares one run).
ROLLUP_CHANGES_COUNTDOWN_SECONDS = float(os.environ.get("ROLLUP_CHANGES_COUNTDOWN_SECONDS", "1"))

# Feeds: landing folders (one per source, relative to this root unless absolute), and how long a file must be
# left unchanged before a sweep imports it; files with more rows than FEEDS_BACKGROUND_ROWS go to a worker.
FEEDS_LANDING_ROOT = os.environ.get("FEEDS_LANDING_ROOT", str(BASE_DIR / "landing"))
FEEDS_LANDING_SETTLE_SECONDS = int(os.environ.get("FEEDS_LANDING_SETTLE_SECONDS", "30"))
FEEDS_BACKGROUND_ROWS = int(os.environ.get("FEEDS_BACKGROUND_ROWS", "2000"))

# Case work keeps going when Redis is down: sessions live in the database.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Signed out after this much inactivity: IdleTimeoutMiddleware pushes the expiry on while in use.
SESSION_COOKIE_AGE = 60 * int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "web.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Production is only ever served over HTTPS (TLS may end at a proxy that sets
# X-Forwarded-Proto; say so with TRUST_X_FORWARDED_PROTO=1). The laptop demo is plain HTTP.
HTTPS = env_flag("HTTPS", default=not LOCAL_DEVELOPMENT)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
if env_flag("TRUST_X_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: no inline script or style anywhere, so injected markup cannot run.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Sign-in lockout (django-axes): after repeated wrong passwords the account is locked for a while,
# whichever address the attempts come from. Kept in the database, so it still works without Redis.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username"]
# Deliberately not by address: partner offices share one address behind NAT, and locking by address
# would let a few mistyped passwords lock a whole team out (axes warns about this with W006).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "reoffending.security.lockout_response"
AXES_VERBOSE = False

# Two-factor authentication (TOTP, django-otp) for every member of staff.
OTP_TOTP_ISSUER = "Reducing reoffending"

REST_FRAMEWORK = {
    # Token first, so a request without credentials is answered 401 (with WWW-Authenticate), not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bodies are JSON: a form cannot say null, so "" would quietly mean it. Files (feed runs) and a browser
    # session's token request also take a form.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["web.api.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "web.api.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "web.api_schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "web.api.exception_handler",
}
# API tokens (django-rest-knox): stored as SHA-512 digests, shown once, always expiring.
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 - a model name, not a secret
REST_KNOX = {
    "TOKEN_TTL": datetime.timedelta(days=int(os.environ.get("API_TOKEN_DAYS", "30"))),
    # Recognisable in a leaked file or a secret scanner's report.
    "TOKEN_PREFIX": "reo_",
    "AUTO_REFRESH": False,
}
API_TOKEN_LIMIT = 10  # current tokens per user
# knox's own migrations create its default token table, which accounts.ApiToken replaces.
MIGRATION_MODULES = {"knox": None}

SPECTACULAR_SETTINGS = {
    "TITLE": "Reducing reoffending case management API",
    # The description, with authentication, errors, paging and the version policy: web.api_schema.
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",  # from this site's static files: no CDN, fits the Content Security Policy
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "web.api_schema.add_error_components",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RagStatusEnum": "cases.models.RagStatus",
        "ActionStatusEnum": "pathways.models.ActionStatus",
        "ReferralStatusEnum": "pathways.models.ReferralStatus",
        "EventTypeEnum": "webhooks.models.EventType",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

SERVICE_NAME = "Reducing reoffending case management"
# Webhook endpoints must be https://; plain http:// only on a laptop (and for the tests' local receiver).
WEBHOOKS_ALLOW_HTTP = env_flag("WEBHOOKS_ALLOW_HTTP", default=LOCAL_DEVELOPMENT)
# Webhook endpoints on a private, loopback or link-local address are refused, but on a laptop.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env_flag("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=LOCAL_DEVELOPMENT)
# The address of the service, for links in emails.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Alert emails. They say only that there is a new alert, never who it is about. Local
# development prints them to the console instead of sending them.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if LOCAL_DEVELOPMENT
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_flag("EMAIL_USE_TLS")
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "case-management@localhost")

# Request metrics at /metrics for a scraper that presents this as a bearer token; none without it.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
