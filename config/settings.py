"""Atelier settings, read from the environment (django-environ).

Embedded defaults make a laptop work with nothing installed: SQLite under ``var/``, media under ``var/media``,
Celery tasks executed in-process when no broker is configured. Production (``DJANGO_DEBUG=false``, the default)
refuses to start without a secret key and allowed hosts.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-development-key-only-for-debug-mode")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
    if not SECRET_KEY or not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "Production mode (DJANGO_DEBUG=false) needs DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS. "
            "For local development set DJANGO_DEBUG=true (make run does)."
        )

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
    "curation",
    "classifier",
    "mltrain",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "config.middleware.DatabaseOutageRetryMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    if "DATABASE_URL" not in env.ENVIRON:
        VAR_DIR.mkdir(exist_ok=True)
    # SQLite: wait for the write lock instead of failing at once when a worker thread writes concurrently.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploaded images live outside any static root and are never served by URL: only through authenticated views.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media-not-served/"

# Upload size: Django spools big bodies to disk; the ingest service enforces the per-file limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("DATA_UPLOAD_MAX_NUMBER_FILES", default=200)

# --- Celery -------------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
# Without a broker, tasks run in-process when the transaction commits (the laptop default).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = env.bool("CELERY_TASK_EAGER_PROPAGATES", default=False)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Unacknowledged messages of a worker that died come back after this many seconds (kombu's Redis transport).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TIMEZONE = TIME_ZONE
# The model runs only on workers consuming `inference` (`celery -A config worker -Q inference -c 1
# --prefetch-multiplier 64`: one prefork child that loads the model lazily, so nothing forks after CUDA is
# initialised; the prefetch lets celery-batches gather single uploads). Everything else runs on `default`.
CELERY_TASK_ROUTES = {
    "classifier.classify_artwork": {"queue": "inference"},
    "classifier.classify_artworks": {"queue": "inference"},
    "classifier.sweep_pending": {"queue": "default"},
}
CELERY_BEAT_SCHEDULE = {
    "sweep-pending-artworks": {
        "task": "classifier.sweep_pending",
        "schedule": env.float("ATELIER_PENDING_SWEEP_INTERVAL_SECONDS", default=120.0),
    },
}

# --- Atelier ------------------------------------------------------------------------------------------------
ATELIER = {
    "INGEST_MAX_BYTES": env.int("ATELIER_INGEST_MAX_BYTES", default=10 * 1024 * 1024),
    "INGEST_MIN_SIDE": env.int("ATELIER_INGEST_MIN_SIDE", default=150),
    "INGEST_MAX_SIDE": env.int("ATELIER_INGEST_MAX_SIDE", default=8192),
    "DISPLAY_MAX_SIDE": env.int("ATELIER_DISPLAY_MAX_SIDE", default=1600),
    "THUMBNAIL_SIDE": env.int("ATELIER_THUMBNAIL_SIDE", default=320),
    "MODEL_DIR": env.path("ATELIER_MODEL_DIR", default=VAR_DIR / "models"),
    # Deployment-wide override of the active version's review threshold (empty: use the version's own).
    "REVIEW_THRESHOLD": env.float("ATELIER_REVIEW_THRESHOLD", default=None),
    "REVIEW_LEASE_SECONDS": env.int("ATELIER_REVIEW_LEASE_SECONDS", default=600),
    # Inference (classifier/engine): batch size, how long single uploads wait to be grouped, bulk chunk size.
    "INFERENCE_DEVICE": env("ATELIER_INFERENCE_DEVICE", default="auto"),
    "INFERENCE_BATCH_SIZE": env.int("ATELIER_INFERENCE_BATCH_SIZE", default=32),
    "INFERENCE_BATCH_WAIT_SECONDS": env.float("ATELIER_INFERENCE_BATCH_WAIT_SECONDS", default=0.1),
    "INFERENCE_CHUNK_SIZE": env.int("ATELIER_INFERENCE_CHUNK_SIZE", default=64),
    # Decode threads (default: one per core) and torch intra-op threads on the CPU (default: half the cores).
    "INFERENCE_DECODE_WORKERS": env.int("ATELIER_INFERENCE_DECODE_WORKERS", default=None),
    "INFERENCE_TORCH_THREADS": env.int("ATELIER_INFERENCE_TORCH_THREADS", default=None),
    # None: measure at load whether bf16 autocast is faster on this CPU.
    "INFERENCE_CPU_BF16": env.bool("ATELIER_INFERENCE_CPU_BF16", default=None),
    "PREDICT_TIMEOUT_SECONDS": env.float("ATELIER_PREDICT_TIMEOUT_SECONDS", default=10.0),
    "PENDING_SWEEP_AGE_SECONDS": env.int("ATELIER_PENDING_SWEEP_AGE_SECONDS", default=300),
}

# --- REST framework -----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header is what turns "not signed in" into 401 instead of 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["config.api.throttling.AnonThrottle", "config.api.throttling.UserThrottle"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.StablePageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("ATELIER_THROTTLE_ANON", default="100/hour"),
        "user": env("ATELIER_THROTTLE_USER", default="5000/hour"),
        "uploads": env("ATELIER_THROTTLE_UPLOADS", default="2000/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Atelier API",
    "DESCRIPTION": (
        "Art-style classification (the 27 WikiArt styles) with human review.\n\n"
        "**Authentication**: `Authorization: Token <key>` (get one from `POST /api/v1/auth/token/`, "
        "`manage.py create_api_token USER`, or the admin), or the session of the signed-in pages. No credentials: "
        "401 with `WWW-Authenticate: Token`; a role without the permission: 403.\n\n"
        "**Rates**: anonymous clients 100 requests/hour, signed-in users and uploads their own budgets; beyond "
        "them 429 with `Retry-After` (seconds).\n\n"
        '**Errors**: every 4xx/5xx is `{"error": {"code", "message", "fields"}}`; `code` is stable for '
        "programs. **Lists** are paginated (`page`, `page_size` ≤ 200) in a stable order; detail reads carry an "
        "`ETag` (send `If-None-Match` to get 304 while nothing changed)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets from the pinned sidecar package: the docs work without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ArtworkStatusEnum": "curation.models.Artwork.Status",
        "ReviewTaskStatusEnum": "curation.models.ReviewTask.Status",
        "ModelVersionStatusEnum": "classifier.models.ModelVersion.Status",
        "TrainingRunStatusEnum": "classifier.models.TrainingRun.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema.add_error_responses",
    ],
}

# --- Security (production) ----------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
    # Preloading commits the whole domain and its subdomains to HTTPS in every browser, for good: a decision for
    # whoever owns the domain, not a default for an internal tool (set DJANGO_SECURE_HSTS_PRELOAD=true to opt in).
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Operations (config/health.py, config/metrics.py, config/ratelimit.py, housekeeping) --------------------
ATELIER.update(
    {
        # Worker heartbeats behind /readyz: a dead worker's key expires after the TTL.
        "HEARTBEAT_REDIS_URL": env("ATELIER_HEARTBEAT_REDIS_URL", default=""),
        "HEARTBEAT_INTERVAL_SECONDS": env.float("ATELIER_HEARTBEAT_INTERVAL_SECONDS", default=5.0),
        "HEARTBEAT_TTL_SECONDS": env.int("ATELIER_HEARTBEAT_TTL_SECONDS", default=15),
        # Inference workers load the active model at start (from the heartbeat thread), not on the first task.
        "WORKER_PRELOAD_MODEL": env.bool("ATELIER_WORKER_PRELOAD_MODEL", default=True),
        # /metrics: a bearer token, or (without one) only these client addresses.
        "METRICS_TOKEN": env("ATELIER_METRICS_TOKEN", default=""),
        "METRICS_ALLOWED_IPS": env.list("ATELIER_METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"]),
        "LOGIN_MAX_FAILURES": env.int("ATELIER_LOGIN_MAX_FAILURES", default=5),
        "LOGIN_LOCKOUT_SECONDS": env.int("ATELIER_LOGIN_LOCKOUT_SECONDS", default=15 * 60),
        "DRIFT_WINDOW": env.int("ATELIER_DRIFT_WINDOW", default=500),
        "DRIFT_TOLERANCE": env.float("ATELIER_DRIFT_TOLERANCE", default=0.10),
        # Housekeeping: media files without an artwork row older than this are crash leftovers (younger ones may
        # belong to an upload whose row is being written right now).
        "ORPHAN_MEDIA_MIN_AGE_SECONDS": env.int("ATELIER_ORPHAN_MEDIA_MIN_AGE_SECONDS", default=6 * 60 * 60),
        "STALE_UPLOAD_AGE_SECONDS": env.int("ATELIER_STALE_UPLOAD_AGE_SECONDS", default=24 * 60 * 60),
        # A request that hit a broken database connection waits this long for it to come back and runs again
        # (reads, and these idempotent upload endpoints), instead of answering 500: config/middleware.py.
        # Workers on other hosts/containers than the web serve their metrics themselves (config/metrics.py).
        "WORKER_METRICS_PORT": env.int("ATELIER_WORKER_METRICS_PORT", default=None),
        "WORKER_METRICS_ADDR": env("ATELIER_WORKER_METRICS_ADDR", default="0.0.0.0"),  # noqa: S104
        "DB_OUTAGE_RETRY_SECONDS": env.float("ATELIER_DB_OUTAGE_RETRY_SECONDS", default=20.0),
        "DB_OUTAGE_RETRY_PATHS": env.list(
            "ATELIER_DB_OUTAGE_RETRY_PATHS", default=["/api/v1/artworks/", "/predict", "/upload/file/"]
        ),
    }
)
# Big uploads are spooled here (not /tmp) so that housekeeping can find what a crashed request left behind.
FILE_UPLOAD_TEMP_DIR = str(env.path("FILE_UPLOAD_TEMP_DIR", default=VAR_DIR / "tmp" / "uploads"))
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
# The Content-Security-Policy of every HTML page (config/middleware.py). No inline scripts; styles may be inline.
ATELIER_CSP = env(
    "ATELIER_CSP",
    default="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)
if REDIS_URL:
    # A Redis restart must not turn every throttled API call or login into a 500: see config/cache.py.
    CACHES["default"]["BACKEND"] = "config.cache.ResilientRedisCache"
CELERY_IMPORTS = ["config.housekeeping_tasks"]
CELERY_TASK_ROUTES["atelier.housekeeping"] = {"queue": "default"}
CELERY_BEAT_SCHEDULE["housekeeping"] = {
    "task": "atelier.housekeeping",
    "schedule": env.float("ATELIER_HOUSEKEEPING_INTERVAL_SECONDS", default=6 * 60 * 60.0),
}

# JSON lines with request and task ids (config/logging.py); LOG_FORMAT=plain for a developer's terminal.
LOGGING = logging_config(
    level=env("LOG_LEVEL", default="INFO"), json_format=env("LOG_FORMAT", default="json") == "json"
)
# Celery must log through the same handlers instead of installing its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
