"""Settings, read from the environment so one build runs everywhere.

DATABASE_URL  sqlite:///path or postgres://user@host:port/name (default: var/crm.sqlite3)
SECRET_KEY    required in production (`manage.py check --deploy` fails on the dev default)
DEBUG         1/true to enable debug pages
ALLOWED_HOSTS comma-separated host names
LOG_LEVEL     DEBUG, INFO, WARNING, ...
REDIS_URL     optional; when set the cache and form rate limits are shared via Redis (else the database counts)
TRUSTED_PROXY_COUNT  how many reverse proxies append to X-Forwarded-For in front of the app (default 0)
ALLOW_HTTP    1 to serve plain HTTP with DEBUG off (no HTTPS redirect, HSTS or Secure cookies)
SESSION_HOURS how long a back-office sign-in lasts (default 12)
API_TOKEN_DAYS  how long a new API token lasts (default 90)
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from dj_database_url import DBConfig

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state (the default SQLite database, collectstatic's output). Importing the settings touches
# no disk: manage.py, wsgi.py and asgi.py create these folders at startup (crm/startup.py).
VAR_DIR = BASE_DIR / "var"


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEV_SECRET_KEY = "django-insecure-dev-only-key-set-SECRET_KEY-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY") or DEV_SECRET_KEY
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# HTTPS by default in production; ALLOW_HTTP=1 for plain-HTTP serving (local, or a proxy that
# terminates TLS without sending X-Forwarded-Proto). DEBUG (make run) serves plain HTTP.
ALLOW_HTTP = env_bool("ALLOW_HTTP")
HTTPS_ONLY = not DEBUG and not ALLOW_HTTP
SECURE_SSL_REDIRECT = HTTPS_ONLY
SECURE_REDIRECT_EXEMPT = [r"^health$"]  # load balancers probe over plain HTTP
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600))) if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)
SESSION_COOKIE_AGE = int(float(os.environ.get("SESSION_HOURS", "12")) * 3600)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "axes",
    "crm",
    "contacts",
    "leads",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "crm.middleware.RequestSizeLimitMiddleware",  # after CORS, so a browser can read its 413
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the lockout page
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"

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


def database_from_url(url: str) -> DBConfig:
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN,
        # so two transactions that read-then-write (conversion) queue instead of deadlocking.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    return config


DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'crm.sqlite3'}"
DATABASES = {"default": database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The dashboard's covering indexes (INCLUDE columns) are for PostgreSQL at scale; SQLite builds them on their key
# columns alone, which is all the embedded default needs, so its warning would only alarm a newcomer's `make run`.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "crm.User"
# Axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "crm.roles.RoleBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule for passwords: Django tells it of every password change, and it revokes the user's API tokens.
    {"NAME": "crm.tokens.RevokeTokensOnPasswordChange"},
]
LOGIN_URL = "admin:login"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"  # collectstatic target, served by WhiteNoise

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "crm@localhost")
# Nurture (leads/nurture/): the address its email links (unsubscribe, open pixel, click redirect) point at,
# how often the scheduler runs and how many leads one transaction takes.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://localhost:8000")
NURTURE_POLL_SECONDS = float(os.environ.get("NURTURE_POLL_SECONDS", "60"))
# How often beat brings the dashboard's stored figures up to date (leads/dashboard_rollup.py). Figures are exact
# either way; leads changed since the last refresh are read live, which costs more the more there are.
DASHBOARD_REFRESH_SECONDS = float(os.environ.get("DASHBOARD_REFRESH_SECONDS", "60"))
NURTURE_BATCH = int(os.environ.get("NURTURE_BATCH", "200"))

# Phone numbers without a country prefix are read as numbers of this region.
PHONE_DEFAULT_REGION = os.environ.get("PHONE_DEFAULT_REGION", "US")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.PagePagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api.exceptions.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "crm.api.parsers.JSONParser",
        "crm.api.parsers.FormParser",
        "crm.api.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 25,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Lead CRM API",
    "DESCRIPTION": "Capture, qualify, route and convert leads. Authenticate with `Authorization: Bearer <token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies get their own components: what a client sends (writable fields, non-blank minimums)
    # is not what it reads back.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed package, not a CDN: docs work offline and behind firewalls.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set where two fields share a name (a lead's and a deal's `stage`) or one set has two
    # names (`recommendation` and document 004's `ai_recommendation`).
    "ENUM_NAME_OVERRIDES": {
        "LeadStageEnum": "leads.stages.LeadStage",
        "DealStageEnum": "contacts.choices.DealStage",
        "RecommendationEnum": "leads.choices.Recommendation",
        "LeadStatusEnum": "leads.api.serializers.STATUS_CHOICES",
        "LeadSourceEnum": "leads.choices.LeadSource.choices",
        "PriorityEnum": "leads.choices.Priority.choices",
        "DocumentActivityTypeEnum": [("created", "created"), ("status_changed", "status_changed"),
                                     ("note_added", "note_added"), ("contacted", "contacted")],
        "ContactStatusEnum": "contacts.choices.ContactStatus",
        "ChannelKindEnum": "leads.choices.ChannelKind",  # a channel's kind beside an activity's
        "KindEnum": "crm.choices.ActivityKind",  # an activity's kind; a nurture step's is SequenceStepKindEnum
        "SequenceStepKindEnum": "leads.nurture_models.StepKind",
        "NurtureStatusEnum": "leads.nurture_models.NurtureStatus",
        "NurtureExitReasonEnum": "leads.nurture_models.ExitReason",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api.schema.document_errors",
        "crm.api.schema.overlapping_alternatives",
    ],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "formKey": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Form-Key",
                "description": "A website channel's public key: lets an anonymous form create leads, nothing else.",
            }
        }
    },
}

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Website capture: the public POST /api/v1/leads (leads/capture/cors.py, ratelimit.py, spam.py, idempotency.py) ---
CAPTURE_PATH_REGEX = r"^/api/v1/leads/?$"
# Client addresses for rate limits: with 0 proxies X-Forwarded-For is ignored (anyone can write it);
# with N, the Nth address from the right is the one our own outermost proxy saw.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
if TRUSTED_PROXY_COUNT:
    # Our own proxy says whether the visitor used HTTPS; without one nobody may claim it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Form rate-limit counts: in Redis when there is one, else in the database; either way shared by
# every web process (a per-process cache would let each worker allow the full limit).
CAPTURE_RATE_LIMIT_STORE = "cache" if REDIS_URL else "database"
CAPTURE_HONEYPOT_FIELD = "website_url"
CAPTURE_MIN_FILL_SECONDS = float(os.environ.get("CAPTURE_MIN_FILL_SECONDS", "3"))
# How long a form's signed "shown at" token is good for (embed.js fetches a new one before then).
CAPTURE_FORM_TOKEN_MAX_AGE_SECONDS = 24 * 3600
IDEMPOTENCY_KEY_TTL_HOURS = 24

# --- CSV import (leads/importers/retention.py) ---
IMPORT_UPLOAD_TTL_HOURS = float(os.environ.get("IMPORT_UPLOAD_TTL_HOURS", "24"))  # uploads nobody imported
IMPORT_REPORT_DAYS = float(os.environ.get("IMPORT_REPORT_DAYS", "30"))  # error reports hold rejected rows as they came
# Bodies over these sizes are answered 413 before anything parses them (crm/middleware.py);
# other non-upload requests are held to DATA_UPLOAD_MAX_MEMORY_SIZE.
CAPTURE_MAX_BODY_BYTES = int(os.environ.get("CAPTURE_MAX_BODY_BYTES", str(64 * 1024)))
REQUEST_BODY_LIMITS = [(CAPTURE_PATH_REGEX, CAPTURE_MAX_BODY_BYTES)]
# CORS only on the capture path (its POST) and the form-token page; which origin gets headers is
# decided per channel (leads/capture/cors.py).
CORS_URLS_REGEX = rf"{CAPTURE_PATH_REGEX}|^/f/[^/]+/token$"
CORS_ALLOW_METHODS = ("POST", "OPTIONS")
CORS_ALLOW_HEADERS = ("accept", "content-type", "x-form-key", "idempotency-key")
CORS_EXPOSE_HEADERS = ("Retry-After", "Idempotent-Replayed")

# --- API tokens (crm/tokens.py) and the brakes on guessing passwords and tokens ---
API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))
# An address that presents this many bad bearer tokens within a window is answered 429 until it ends.
API_TOKEN_FAILURE_LIMIT = int(os.environ.get("API_TOKEN_FAILURE_LIMIT", "10"))
API_TOKEN_FAILURE_WINDOW_SECONDS = int(os.environ.get("API_TOKEN_FAILURE_WINDOW_SECONDS", "600"))
# django-axes: after this many failed sign-ins for one username, or from one address, sign-in is
# refused (even with the right password) for the cool-off time; a success clears the count.
# Unlock sooner with `manage.py axes_reset_username USERNAME` or `axes_reset_ip ADDRESS`.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "crm.client_ip.client_ip"  # TRUSTED_PROXY_COUNT, as for the form rate limit
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"

# --- Background engine and events (crm/celery.py, crm/relay.py, crm/webhooks.py; docs/events.md) ---
# Unset, the engine runs embedded: kombu's filesystem transport (messages are files under var/broker/),
# which crosses processes with no server to install. Production: amqp://... (RabbitMQ) or redis://...
# (A host in the URL only keeps kombu from warning "No hostname was supplied"; the transport ignores it.)
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://localhost//"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"), "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"), "polling_interval": 0.2,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task whose worker died runs again; every task is idempotent
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Lead events go to the topic exchange crm.events on this broker; empty: no broker publishing (webhooks only).
# Defaults to CELERY_BROKER_URL when that is set, to none when the engine runs embedded.
EVENTS_BROKER_URL = os.environ.get("EVENTS_BROKER_URL", os.environ.get("CELERY_BROKER_URL", ""))
EVENTS_EXCHANGE = "crm.events"
EVENTS_RELAY_BATCH = int(os.environ.get("EVENTS_RELAY_BATCH", "500"))
EVENTS_RELAY_POLL_SECONDS = float(os.environ.get("EVENTS_RELAY_POLL_SECONDS", "1"))  # beat's safety net
# A commit that writes events asks for a relay run at most this often per process (bursts share one run).
EVENTS_RELAY_KICK_SECONDS = float(os.environ.get("EVENTS_RELAY_KICK_SECONDS", "0"))
EVENTS_RETENTION_DAYS = float(os.environ.get("EVENTS_RETENTION_DAYS", "7"))  # delivered events, then purged
# Webhook retries: seconds after each failed attempt (~3 days in all), e.g. "1,2,4" in tests.
WEBHOOK_RETRY_DELAYS = [
    float(s) for s in env_list("WEBHOOK_RETRY_DELAYS", "5,30,120,600,1800,3600,7200,14400,28800,43200,86400,86400")
]
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "5"))
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE")  # private, loopback, link-local targets (tests, intranets)
# --- Enrichment (leads/enrichment/; docs/enrichment.md) ---
# Who is asked about a new lead's person and company: "offline" (the workspace's own companies and
# contacts, the email's domain, the phone number; no network), "http" (a Clearbit- or People Data
# Labs-style JSON service at ENRICHMENT_HTTP_URL), or the dotted path of a provider class.
ENRICHMENT_PROVIDER = os.environ.get("ENRICHMENT_PROVIDER", "offline")
ENRICHMENT_HTTP_URL = os.environ.get("ENRICHMENT_HTTP_URL", "")
ENRICHMENT_HTTP_KEY = os.environ.get("ENRICHMENT_HTTP_KEY", "")
ENRICHMENT_TIMEOUT_SECONDS = float(os.environ.get("ENRICHMENT_TIMEOUT_SECONDS", "5"))
# Seconds before each retry of a failed lookup (then the error is recorded on the lead).
ENRICHMENT_RETRY_DELAYS = [float(s) for s in env_list("ENRICHMENT_RETRY_DELAYS", "10,60,300,1800")]
# Calls per provider, e.g. "http=10/s,offline=600/m" (n per s, m or h); a provider not named uses its own default.
ENRICHMENT_RATE_LIMITS = {
    name.strip(): rate.strip()
    for name, _, rate in (item.partition("=") for item in env_list("ENRICHMENT_RATE_LIMITS", ""))
}

# --- Ad platforms (leads/integrations/; docs/ad-platforms.md) ---
# The Graph API version's base URL a Facebook lead is fetched from: GET {FACEBOOK_GRAPH_URL}/{leadgen_id}.
FACEBOOK_GRAPH_URL = os.environ.get("FACEBOOK_GRAPH_URL", "https://graph.facebook.com/v23.0")
FACEBOOK_FETCH_TIMEOUT_SECONDS = float(os.environ.get("FACEBOOK_FETCH_TIMEOUT_SECONDS", "10"))
FACEBOOK_FETCH_MAX_BYTES = 1_000_000
# Seconds before each retry of a failed fetch (then the lead is marked failed on its channel), e.g. "0,0" in tests.
FACEBOOK_FETCH_RETRY_DELAYS = [float(s) for s in env_list("FACEBOOK_FETCH_RETRY_DELAYS", "5,30,120,600,1800,3600")]
CELERY_BEAT_SCHEDULE = {
    # expires: while no worker runs, the polls do not pile up in the broker (the next one does the work)
    "relay-events": {"task": "crm.tasks.relay_events", "schedule": EVENTS_RELAY_POLL_SECONDS,
                     "options": {"expires": 30}},
    "dispatch-due-webhooks": {"task": "crm.tasks.dispatch_due_webhooks", "schedule": 2.0, "options": {"expires": 30}},
    "purge-delivered-events": {"task": "crm.tasks.purge_delivered_events", "schedule": 3600.0},
    "purge-idempotency-keys": {"task": "leads.tasks.purge_idempotency_keys", "schedule": crontab(minute=10, hour=3)},
    "purge-imports": {"task": "leads.tasks.purge_imports", "schedule": crontab(minute=20, hour=3)},
    # queued imports whose message was lost (leads/importers/queued.py); a starting worker resumes the rest
    "resume-imports": {"task": "leads.tasks.resume_imports", "schedule": 300.0, "options": {"expires": 240}},
    # each workspace's retention policies (docs/privacy.md)
    "apply-retention": {"task": "leads.tasks.apply_retention", "schedule": crontab(minute=30, hour=3)},
    # workspaces whose closed-lead history grew since their active model (leads/prediction/retraining.py)
    "retrain-conversion-models": {"task": "leads.tasks.retrain_conversion_models", "schedule": crontab(minute=40, hour=3)},
    # nurture (leads/nurture/): exits, then due steps; expires so a stopped worker does not pile passes up
    "run-nurture": {"task": "leads.tasks.run_nurture", "schedule": NURTURE_POLL_SECONDS, "options": {"expires": 60}},
    # the dashboard's stored figures: leads marked stale by the triggers, batch by batch (docs/dashboard.md)
    "refresh-dashboard": {"task": "leads.tasks.refresh_dashboard", "schedule": DASHBOARD_REFRESH_SECONDS,
                          "options": {"expires": DASHBOARD_REFRESH_SECONDS}},
    "run-follow-ups": {"task": "leads.tasks.run_follow_ups", "schedule": 300.0, "options": {"expires": 240}},
    # each user's tasks due today and overdue, by email (leads/work.py)
    "email-due-tasks": {"task": "leads.tasks.email_due_tasks", "schedule": crontab(minute=0, hour=7)},
}
