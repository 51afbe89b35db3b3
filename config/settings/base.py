"""Settings for every environment; behaviour is chosen by environment variables (README table).

``DJANGO_ENV=production`` refuses to start without ``SECRET_KEY`` or with ``DEBUG`` on.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from config import embedded_db
from config.env import env_bool, env_choice, env_date, env_float, env_int, env_list, env_str
from core.logs import logging_config

# Lets generic Django classes be subscripted at runtime (ModelAdmin[User]) for the type checker.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
SHARED_DATA_DIR = Path(env_str("SHARED_DATA_DIR", str(BASE_DIR.parent / "shared" / "data")))
SHARED_WHEELS_DIR = BASE_DIR.parent / "shared" / "wheels"

ENVIRONMENT = env_choice("DJANGO_ENV", "development", {"development", "test", "production"})
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DEBUG", not PRODUCTION)
if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off when DJANGO_ENV=production")
    SECRET_KEY = env_str("SECRET_KEY")  # required: no default in production
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production")
else:
    SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-" + "x" * 40)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "django_prometheus",
    "core",
    "accounts",
    "ingestion",
    "features",
    "predictions",
    "explanations",
    "decisions",
    "backups",
    "web",
    "ops",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.logs.CorrelationIdMiddleware",  # X-Correlation-ID in, out, and into sent tasks
    "django.middleware.security.SecurityMiddleware",
    "core.metrics_http.ApiMetricsMiddleware",  # /api/ latency by route, status, source
    "core.security_headers.SecurityHeadersMiddleware",  # CSP, Permissions-Policy
    "accounts.middleware.ApiMiddleware",  # /api/: rate-limit headers, one JSON error shape
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

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

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
DATABASES: dict[str, dict[str, Any]]
if DATABASE_URL:
    DATABASES = {"default": dict(dj_database_url.parse(DATABASE_URL, conn_max_age=60))}
else:
    DATABASES = {"default": embedded_db.database_settings(env_str("DATABASE_NAME", "stockpred"))}
# Explicit, so a process started by a test (a live server, a worker) that loads these settings
# again finds the same test database; TEST_DATABASE_NAME lets parallel runs use separate ones.
DATABASES["default"]["TEST"] = {
    "NAME": env_str("TEST_DATABASE_NAME", "test_" + DATABASES["default"]["NAME"])
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, Celery broker/results, Channels layer -----------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cache",
    }
}
# WebSocket fan-out (must be the same in every process). "pubsub" (default): Redis Pub/Sub, one
# PUBLISH per group and in-process fan-out (predictions/ws_layer.py); it holds 10,000 clients
# where channels_redis' queue-per-channel "core" layer refused connections (`bench ws`, in
# docs/api.md). Delivery is at most once, fine for a feed whose next cycle supersedes it.
CHANNEL_LAYER = env_choice("CHANNEL_LAYER", "pubsub", {"core", "pubsub"})
CHANNEL_LAYERS = {
    "default": (
        {"BACKEND": "predictions.ws_layer.PubSubChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
        if CHANNEL_LAYER == "pubsub"
        else {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 5000, "expiry": 30},
        }
    )
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_TIMEZONE = "UTC"
# On SIGQUIT (how `make run` stops workers, worker/processes.py) a running task gets this long to
# finish; then Celery gives it back to the broker for redelivery instead of losing it.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = env_float("CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT", 8.0)
# Workers give back the messages of dead workers on their queues within seconds instead of the
# broker's visibility timeout (core/orphans.py).
CELERY_ORPHAN_REAPER = env_bool("CELERY_ORPHAN_REAPER", True)
# Beat schedules; the DatabaseScheduler copies them into django-celery-beat's tables, where
# operators can edit them in the admin. Each app appends its own entries.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "enforce-retention": {
        "task": "predictions.tasks.retention.enforce_retention",
        "schedule": 6 * 3600.0,
    },
    "update-regime": {"task": "decisions.tasks.update_regime", "schedule": 6 * 3600.0},
}

# --- Platform behaviour ---------------------------------------------------------------------
MARKET_DATA_PROVIDER = env_choice("MARKET_DATA_PROVIDER", "replay", {"replay", "yfinance"})
REPLAY_PRICES_FILE = Path(
    env_str(
        "REPLAY_PRICES_FILE",
        str(SHARED_DATA_DIR / "prices" / "sp500_members_daily_2005_2025.csv.gz"),
    )
)
REPLAY_PERIOD_SECONDS = env_float("REPLAY_PERIOD_SECONDS", 5.0, minimum=0.1)
# Ingestion (ingestion app): replay clock start, yfinance batching/backoff/cache, live beat entry.
REPLAY_START_DATE = env_date("REPLAY_START_DATE", "2024-07-10")  # first day the clock emits
YFINANCE_BATCH_SIZE = env_int("YFINANCE_BATCH_SIZE", 100, minimum=1)
YFINANCE_MAX_RETRIES = env_int("YFINANCE_MAX_RETRIES", 4, minimum=0)
YFINANCE_BACKOFF_SECONDS = env_float("YFINANCE_BACKOFF_SECONDS", 2.0, minimum=0.0)
YFINANCE_REFRESH_DAYS = env_int("YFINANCE_REFRESH_DAYS", 5, minimum=0)
YFINANCE_CACHE_DIR = Path(env_str("YFINANCE_CACHE_DIR", str(VAR_DIR / "cache" / "yfinance")))
CELERY_BEAT_SCHEDULE["ingestion-live-cycle"] = {
    "task": "ingestion.tasks.live_cycle",
    "schedule": REPLAY_PERIOD_SECONDS,
    "options": {"expires": REPLAY_PERIOD_SECONDS},
}
MODELS_DIR = Path(env_str("MODELS_DIR", str(VAR_DIR / "models")))
# Stored results of `manage.py backtest`, read by the /backtest page.
BACKTEST_DIR = Path(env_str("BACKTEST_DIR", str(VAR_DIR / "backtest")))
# Computed when the web server's /metrics is read (docs/metrics.md); workers never run these.
METRICS_SCRAPE_COLLECTORS = [
    "core.metrics_collectors.InfrastructureCollector",
    "predictions.metrics.PredictionCollector",
]
PREDICTION_STALE_SECONDS = env_int("PREDICTION_STALE_SECONDS", 600, minimum=1)
# Online interval calibration (predictions.intervals); off = the offline calibration only.
INTERVAL_ADAPTATION = env_bool("INTERVAL_ADAPTATION", True)
# Prediction history kept, by data day (predictions.retention): 7 years, the audit trail.
PREDICTION_RETENTION_DAYS = env_int("PREDICTION_RETENTION_DAYS", 2557, minimum=1)
# Transcripts `make run` indexes in the background (documents, not chunks; 0 = all 2,425).
KB_TRANSCRIPTS_LIMIT = env_int("KB_TRANSCRIPTS_LIMIT", 0, minimum=0)
INFERENCE_DEVICE = env_choice("INFERENCE_DEVICE", "auto", {"auto", "cpu", "cuda"})
ORT_INTRA_OP_THREADS = env_int("ORT_INTRA_OP_THREADS", 1, minimum=1)
TORCH_THREADS = env_int("TORCH_THREADS", 1, minimum=1)
# NumPy's BLAS (OpenBLAS) in every process: its default, one thread per core, left a second
# thread spinning after each small matrix product of the cycle (the out-of-distribution scores):
# bench pipeline, alternated: Python CPU 408 / 483 ms a cycle with 1 thread, 534 / 538 with 2.
NUMPY_BLAS_THREADS = env_int("NUMPY_BLAS_THREADS", 1, minimum=1)
# Knowledge-base embeddings: MiniLM exported to ONNX (fp32 or int8), the torch reference, or
# torch in bf16 (only where the CPU has bf16; else onnx, explanations/embeddings.py). Bulk
# (chunks) and one query (retrieval, in the web process too) are chosen apart.
_ENCODERS = {"onnx", "onnx-int8", "torch", "torch-bf16"}
EMBEDDING_ENCODER = env_choice("EMBEDDING_ENCODER", "torch-bf16", _ENCODERS)
EMBEDDING_QUERY_ENCODER = env_choice("EMBEDDING_QUERY_ENCODER", "onnx", _ENCODERS)
EMBEDDING_THREADS = env_int("EMBEDDING_THREADS", 2, minimum=1)
# Rows per ONNX Runtime call; 0 = measured by the inference worker when it loads a model.
INFERENCE_BATCH_SIZE = env_int("INFERENCE_BATCH_SIZE", 0, minimum=0)
LLM_BACKEND = env_choice("LLM_BACKEND", "llamacpp", {"llamacpp", "ollama"})
LLM_THREADS = env_int("LLM_THREADS", 2, minimum=1)
# The regeneration of a failed explanation is held to a grammar of the facts (llama.cpp only).
LLM_GRAMMAR = env_bool("LLM_GRAMMAR", True)
# ... and so is the first attempt: the 135M model's free prose passed the claim-form check in
# none of 84 labelled texts (docs/explanations.md).
LLM_GRAMMAR_FIRST = env_bool("LLM_GRAMMAR_FIRST", True)
OLLAMA_HOST = env_str("OLLAMA_HOST", "http://127.0.0.1:11434")
OLLAMA_MODEL = env_str("OLLAMA_MODEL", "llama3.1:8b-instruct-q4_K_M")
# Explanations (explanations app): SEC EDGAR access, retrieval and the explanation cache.
EDGAR_USER_AGENT = env_str("EDGAR_USER_AGENT", "StockPred research platform admin@localhost")
EDGAR_DATA_URL = env_str("EDGAR_DATA_URL", "https://data.sec.gov")
EDGAR_ARCHIVES_URL = env_str("EDGAR_ARCHIVES_URL", "https://www.sec.gov")
RAG_EF_SEARCH = env_int("RAG_EF_SEARCH", 64, minimum=1)
EXPLANATION_CACHE_SECONDS = env_int("EXPLANATION_CACHE_SECONDS", 300, minimum=1)
LLM_MAX_TOKENS = env_int("LLM_MAX_TOKENS", 100, minimum=8)
EXPLANATION_BUDGET_MS = env_int("EXPLANATION_BUDGET_MS", 2500, minimum=100)
# Models (predictions.ml): training data, retrain schedule and the promotion rule.
TRAINING_PRICES_FILE = Path(
    env_str(
        "TRAINING_PRICES_FILE",
        str(SHARED_DATA_DIR / "prices" / "sp500_members_daily_2005_2025.csv.gz"),
    )
)
# "file": train on TRAINING_PRICES_FILE; "db": on the daily PriceBars (the latest live data).
TRAINING_DATA_SOURCE = env_choice("TRAINING_DATA_SOURCE", "file", {"file", "db"})
TF_THREADS = env_int("TF_THREADS", 2, minimum=1)  # TensorFlow threads when training
MODEL_PROMOTION_MAX_MAE_INCREASE = env_float("MODEL_PROMOTION_MAX_MAE_INCREASE", 0.2, minimum=0.0)
# Live rollout of a new model version (issue 22, predictions.rollout): shadow for
# MODEL_SHADOW_DAYS realised trading days, canary on MODEL_CANARY_SHARE of the symbols (a stable
# hash of the ticker) for MODEL_CANARY_DAYS, then full with the previous version watched in
# shadow for MODEL_FULL_WATCH_DAYS; each step needs MODEL_ROLLOUT_MIN_N paired outcomes and the
# candidate's live MAE within MODEL_PROMOTION_MAX_MAE_INCREASE of the other version's on the
# same (symbol, day) pairs, else it is rolled back. Off: the weekly retrain activates at once.
MODEL_LIVE_ROLLOUT = env_bool("MODEL_LIVE_ROLLOUT", True)
MODEL_SHADOW_DAYS = env_int("MODEL_SHADOW_DAYS", 5, minimum=0)
MODEL_CANARY_SHARE = env_float("MODEL_CANARY_SHARE", 0.1, minimum=0.0)
MODEL_CANARY_DAYS = env_int("MODEL_CANARY_DAYS", 5, minimum=0)
MODEL_FULL_WATCH_DAYS = env_int("MODEL_FULL_WATCH_DAYS", 5, minimum=0)
MODEL_ROLLOUT_MIN_N = env_int("MODEL_ROLLOUT_MIN_N", 100, minimum=1)
MODEL_ROLLOUT_CHECK_SECONDS = env_float("MODEL_ROLLOUT_CHECK_SECONDS", 600.0, minimum=1.0)
# Weekly retrain at 06:00 UTC on this weekday (crontab numbering: 0 = Sunday, 6 = Saturday).
MODEL_RETRAIN_WEEKDAY = env_int("MODEL_RETRAIN_WEEKDAY", 6, minimum=0)
from celery.schedules import crontab  # noqa: E402  (kept beside its only use)

CELERY_BEAT_SCHEDULE["weekly-model-retrain"] = {
    "task": "predictions.tasks.training.weekly_retrain",
    "schedule": crontab(minute=0, hour=6, day_of_week=MODEL_RETRAIN_WEEKDAY),
}
# The live-accuracy gate of model rollouts (promote a stage or roll back; issue 22).
CELERY_BEAT_SCHEDULE["model-rollout-check"] = {
    "task": "predictions.tasks.rollout.check_rollouts",
    "schedule": MODEL_ROLLOUT_CHECK_SECONDS,
}
# Hourly Redis-vs-PostgreSQL check of the cached predictions (architecture 12.3).
CELERY_BEAT_SCHEDULE["prediction-cache-consistency"] = {
    "task": "predictions.tasks.consistency.check_cache_consistency",
    "schedule": crontab(minute=17),
}
# The records the cycles left unrealised (late bars, missed cycles; predictions.tasks.accuracy).
CELERY_BEAT_SCHEDULE["realise-late-outcomes"] = {
    "task": "predictions.tasks.accuracy.realise_late",
    "schedule": crontab(minute=41),
    "options": {"expires": 3000},  # queued behind a retrain: the next hour's sweep does it
}
# Backups (backups app): pg_dump + active model artifacts, daily, newest BACKUP_KEEP kept.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(VAR_DIR / "backups")))
BACKUP_KEEP = env_int("BACKUP_KEEP", 7, minimum=1)
CELERY_BEAT_SCHEDULE["daily-backup"] = {
    "task": "backups.tasks.daily_backup",
    "schedule": crontab(minute=30, hour=3),
}

# API (accounts + predictions API): JWT lifetimes, tier limits, WebSocket caps.
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_int("JWT_ACCESS_SECONDS", 3600, minimum=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 30, minimum=1)),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY", SECRET_KEY),
    "UPDATE_LAST_LOGIN": False,
    # Tokens carry a hash of the password hash: changing the password revokes them all.
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "hash_password",
}
# Sign-in brute-force protection (accounts/login_throttle.py): failed sign-ins per window, per
# username and per client IP, on the API's token endpoint, the website's and the admin's login.
LOGIN_THROTTLE_WINDOW_SECONDS = env_int("LOGIN_THROTTLE_WINDOW_SECONDS", 900, minimum=1)
LOGIN_FAILURES_PER_USER = env_int("LOGIN_FAILURES_PER_USER", 5, minimum=1)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 30, minimum=1)
# Requests per API_RATE_WINDOW_SECONDS by tier; None = unlimited. "anon" is per client IP.
API_RATE_WINDOW_SECONDS = env_int("API_RATE_WINDOW_SECONDS", 3600, minimum=1)
API_RATE_LIMITS: dict[str, int | None] = {
    "free": env_int("API_RATE_FREE", 100, minimum=1),
    "pro": env_int("API_RATE_PRO", 1000, minimum=1),
    "enterprise": env_int("API_RATE_ENTERPRISE", 0, minimum=0) or None,
    "anon": env_int("API_RATE_ANON", 60, minimum=1),
    # The website's own session-authenticated calls, per user, whatever the tier.
    "web": env_int("API_RATE_WEB", 3600, minimum=1),
}
# Redis calls on the request path give up fast so the API falls back to PostgreSQL.
API_REDIS_TIMEOUT_SECONDS = env_float("API_REDIS_TIMEOUT_SECONDS", 0.25, minimum=0.01)
API_BATCH_MAX_SYMBOLS = env_int("API_BATCH_MAX_SYMBOLS", 100, minimum=1)
WS_SUBSCRIPTION_LIMITS = {
    "free": env_int("WS_SUBSCRIPTIONS_FREE", 10, minimum=1),
    "pro": env_int("WS_SUBSCRIPTIONS_PRO", 100, minimum=1),
    "enterprise": env_int("WS_SUBSCRIPTIONS_ENTERPRISE", 1000, minimum=1),
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.SessionJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Tier limits (free/pro/enterprise), counted in Redis so every server process shares them.
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.TierRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Real-Time Price Prediction API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's assets are served by us (drf-spectacular-sidecar), not fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security -------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

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
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production, whitenoise serves straight from the finders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Structured logs: LOG_FORMAT=json (one object per line) or text; both carry the correlation id
# (core/logs.py: ingest cycle -> features -> inference -> writes/publish; API request -> job).
LOG_FORMAT = env_choice("LOG_FORMAT", "text", {"json", "text"})
LOGGING = logging_config(LOG_FORMAT, env_str("LOG_LEVEL", "INFO"))
