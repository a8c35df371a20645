"""Settings shared by every environment. Everything that differs comes from the environment.

The pattern follows cookiecutter-django: ``base`` reads the environment, ``local``, ``test`` and
``production`` only adjust what their environment needs.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://localhost:8000").rstrip("/")

# --- Applications -------------------------------------------------------------------------------
DJANGO_APPS = [
    # admin.site is Leme's: superusers only (config/admin_site.py).
    "config.apps.LemeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    # django-axes, with a pt-BR name (config/apps.py).
    "config.apps.LemeAxesConfig",
]
LOCAL_APPS = [
    "accounts",
    "portfolio",
    "surveys",
    "health",
    "metrics",
    "playbooks",
    "demo",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    # Outside everything else, so that every answer carries the headers, errors and refusals included.
    "config.middleware.SecurityHeadersMiddleware",
    # Then: the load balancer's probe touches no session, language or login (config/middleware.py).
    "config.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads a value: a NUL character is a 400, never a database error.
    "config.middleware.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # What a request works out once for all its lists (core.request_memo), dropped with the answer.
    "config.middleware.RequestMemoMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    # Pages and API answers for someone logged in are never kept by the browser or a proxy.
    "accounts.middleware.NoStoreWhenLoggedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Inside the messages: a job put off while the broker is unreachable is told as a message (core/jobs.py).
    "config.middleware.DeferredJobsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After the login middleware, so that a request DRF authenticated is not counted as anonymous.
    "config.middleware.ApiThrottleMiddleware",
    # Last, so that a locked-out login is answered before any view runs.
    "axes.middleware.AxesMiddleware",
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Cache --------------------------------------------------------------------------------------
# What the rate limits count in (core/ratelimit.py). Production keeps it in Redis, so every web process counts
# together; without LEME_CACHE_URL it is this process's memory (the tests, the embedded run).
if env.str("LEME_CACHE_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("LEME_CACHE_URL"),
            "KEY_PREFIX": "leme",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "leme"}}

# --- Database -----------------------------------------------------------------------------------
# The embedded default is a SQLite file in the project; production and the tests use PostgreSQL.
DATABASES = {
    "default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))


def without_jit(database: dict) -> dict:
    """PostgreSQL compiles a query whose estimated cost passes ``jit_above_cost`` before it runs it: on a leader's
    CS operations panel that was 300 ms of a 350 ms query. Leme's requests and tasks are reads and writes over
    indexes, where compiling never pays for itself, so its connections start with JIT off (the nightly rebuilds
    already turned it off for their transactions). ``LEME_DATABASE_JIT=true`` leaves the server's setting."""
    if "postgresql" in database["ENGINE"] and not env.bool("LEME_DATABASE_JIT", default=False):
        options = database.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    return database


without_jit(DATABASES["default"])
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- People and authentication ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    # Leme's user has an email and a full name (no username, first or last name): "lucasalmeida1" is refused
    # for Lucas Almeida. The validator also compares each word of the name alone.
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=7)

# The load balancers and proxies in front of Leme (addresses or CIDR networks, comma-separated in the
# environment). Only a request that comes from one of them has its X-Forwarded-For read, from the right,
# for the client's address (core/clientip.py): the login lockout, the API throttles and the public pages'
# rate limits all count per that address. Empty: the socket's address is the client's.
LEME_TRUSTED_PROXIES = env.list("LEME_TRUSTED_PROXIES", default=[])

# Login guessing (accounts/lockout.py): after AXES_FAILURE_LIMIT failures for one email from one client
# address, that pair is locked out for AXES_COOLOFF_TIME; after LEME_LOGIN_ADDRESS_FAILURE_LIMIT failures from
# one address across all emails, that address is. Emails are counted lower-cased and trimmed.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
LEME_LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LEME_LOGIN_ADDRESS_FAILURE_LIMIT", default=30)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.login_email"
AXES_CLIENT_IP_CALLABLE = "core.clientip.client_address"
AXES_HANDLER = "accounts.lockout.LoginGuessHandler"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Password reset requests (accounts/views.py): per client address (refused with 429), and per email (quietly
# not sent, so the page never tells whether the email has an account).
LEME_PASSWORD_RESET_RATES = {
    "address": env.str("LEME_PASSWORD_RESET_RATE_ADDRESS", default="10/hour"),
    "email": env.str("LEME_PASSWORD_RESET_RATE_EMAIL", default="3/hour"),
}

# --- Browser-side hardening ---------------------------------------------------------------------
# Sent on every answer by config.middleware.SecurityHeadersMiddleware. Pages load scripts and styles only from
# Leme's own static files: no inline <script>, event handler attribute, <style> or style="" anywhere (data for
# scripts travels in json_script blocks, which are not executed; bar widths are CSS classes). Images may be
# data: URIs (Swagger UI's icons). Set either to "" to send none.
LEME_CONTENT_SECURITY_POLICY = env.str(
    "LEME_CONTENT_SECURITY_POLICY",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
)
LEME_PERMISSIONS_POLICY = env.str(
    "LEME_PERMISSIONS_POLICY",
    default=(
        "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), fullscreen=(), "
        "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), "
        "publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()"
    ),
)

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", _("Portuguese (Brazil)")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="America/Sao_Paulo")
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email --------------------------------------------------------------------------------------
# EMAIL_URL such as smtp+tls://user:password@smtp.example.com:587 configures SMTP; without it,
# development writes each email as a file under var/mail (one .eml file per email, config/mail.py).
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "config.mail.EmlFileBackend"
    EMAIL_FILE_PATH = BASE_DIR / "var" / "mail"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Leme <no-reply@leme.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# --- Celery -------------------------------------------------------------------------------------
# No broker configured means the embedded default: tasks run in-process, right after commit (production
# refuses to start without a broker, and its /healthz calls in-process tasks an error).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default="")) or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
LEME_IN_PROCESS_TASKS_ALLOWED = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# Tasks are written to be safe to run twice, so they are acknowledged only once done: a worker that
# dies mid-task leaves the message for another worker instead of losing it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The default limits fit what someone waits for and the survey sender's runs (it stops a run at half the
# soft limit and queues the rest); nightly work gets its own, longer ones (CELERY_TASK_ANNOTATIONS below).
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
LEME_NIGHTLY_SOFT_TIME_LIMIT = env.int("LEME_NIGHTLY_SOFT_TIME_LIMIT", default=60 * 60)
LEME_NIGHTLY_TIME_LIMIT = env.int("LEME_NIGHTLY_TIME_LIMIT", default=LEME_NIGHTLY_SOFT_TIME_LIMIT + 5 * 60)
# Redis hands an unacknowledged message to another worker after visibility_timeout: it must outlast the
# longest task, or a long nightly job would run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": max(60 * 60, LEME_NIGHTLY_TIME_LIMIT + 10 * 60),
    # Redis: opening a connection gives up after a second (a host that does not answer, not only a closed port).
    "socket_connect_timeout": 1,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request that queues a job waits this little for an unreachable broker before the job goes to the
# outbox (core/jobs.py): a couple of quick retries, each connection given a second.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_WORKER_SEND_TASK_EVENTS = False

# Three queues, so that a campaign of 10,000 emails never holds up an invitation and a long recompute never
# holds up a campaign: the default queue (what someone waits for, and the beat's quick sweeps),
# "<default>.mail" (bulk email: survey sends and reminders) and "<default>.nightly" (recomputes,
# escalations, roll-ups, clean-ups). A worker started without -Q consumes all three; `-Q leme.mail` makes one
# that only sends email. Every queue is named after the default one, so a test worker with a queue of its
# own gets all three of its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="leme")
# The queue of each task, by task name; a task not listed goes to the default queue.
LEME_TASK_QUEUES = {
    "surveys.tasks.campaign_run": "mail",
    "surveys.tasks.deliveries_send": "mail",
    "surveys.tasks.reminders_send": "mail",
    "playbooks.tasks.emails_send": "mail",
    "portfolio.tasks.digest_send": "mail",
    "accounts.tasks.access_attempts_clean": "nightly",
    "portfolio.tasks.delinquency_escalate": "nightly",
    "portfolio.tasks.ledger_sync_effective": "nightly",
    # Every five minutes, but a roll-up that grows with the data: it waits behind other roll-ups rather
    # than in front of invitations.
    "surveys.tasks.tallies_rebuild": "nightly",
    "metrics.tasks.rollups_rebuild": "nightly",
    "metrics.tasks.rollups_refresh": "nightly",
    "metrics.tasks.operations_tallies_rebuild": "nightly",
    "health.tasks.usage_rollup_days": "nightly",
    "health.tasks.usage_rollup_yesterday": "nightly",
    "health.tasks.usage_events_prune": "nightly",
    "health.tasks.scores_recompute": "nightly",
    "health.tasks.band_tally_mend": "nightly",
    "portfolio.tasks.tallies_mend": "nightly",
    "playbooks.tasks.date_triggers_check": "nightly",
}


def celery_queues(default_queue: str) -> dict[str, str]:
    """The three queue names, by kind ("default", "mail", "nightly")."""
    return {"default": default_queue, "mail": f"{default_queue}.mail", "nightly": f"{default_queue}.nightly"}


def celery_routing(default_queue: str) -> tuple[tuple[Queue, ...], dict[str, dict[str, str]]]:
    """CELERY_TASK_QUEUES and CELERY_TASK_ROUTES for a default queue. Each queue has its own exchange and
    routing key (its name), as Celery gives a queue it creates on the fly, so producers and workers agree."""
    names = celery_queues(default_queue)
    queues = tuple(Queue(name, Exchange(name, type="direct"), routing_key=name) for name in names.values())
    routes = {task: {"queue": names[kind]} for task, kind in LEME_TASK_QUEUES.items()}
    return queues, routes


CELERY_TASK_QUEUES, CELERY_TASK_ROUTES = celery_routing(CELERY_TASK_DEFAULT_QUEUE)
CELERY_TASK_ANNOTATIONS = {
    task: {"soft_time_limit": LEME_NIGHTLY_SOFT_TIME_LIMIT, "time_limit": LEME_NIGHTLY_TIME_LIMIT}
    for task, kind in LEME_TASK_QUEUES.items()
    if kind == "nightly"
}

# The beat schedule lives in code, next to the tasks it names; each app adds its own entries. Every entry
# expires before its next run: when workers fall behind, a copy still waiting then is dropped (the next
# one does the same work) instead of piling up behind the others.
CELERY_BEAT_SCHEDULE: dict = {
    "accounts.clean_access_attempts": {
        "task": "accounts.tasks.access_attempts_clean",
        "schedule": 60 * 60 * 24,
        "options": {"expires": 6 * 60 * 60},
    },
    "portfolio.ledger_sync_effective": {
        "task": "portfolio.tasks.ledger_sync_effective",
        "schedule": crontab(hour=0, minute=15),
        "options": {"expires": 6 * 60 * 60},
    },
    "portfolio.delinquency_escalate": {
        "task": "portfolio.tasks.delinquency_escalate",
        "schedule": crontab(hour=6, minute=0),
        "options": {"expires": 6 * 60 * 60},
    },
    # Morning digests: everyone whose 8:00 has come where they are (portfolio/digest.py); once per person a day.
    "portfolio.digests_send_due": {
        "task": "portfolio.tasks.digests_send_due",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    # Large CSV imports whose worker died: queued again, or failed with a page that says so (portfolio/imports.py).
    "portfolio.import_jobs_recover": {
        "task": "portfolio.tasks.import_jobs_recover",
        "schedule": 60 * 5,
        "options": {"expires": 4 * 60},
    },
    # Queues again the jobs the web process kept while the broker was unreachable (accounts/outbox.py).
    "accounts.outbox_flush": {
        "task": "accounts.tasks.outbox_flush",
        "schedule": 60,
        "options": {"expires": 50},
    },
    # Starts "at" and recurring campaigns when due, and restarts sends a dead worker left pending.
    "surveys.campaigns_due": {
        "task": "surveys.tasks.campaigns_due",
        "schedule": 60 * 5,
        "options": {"expires": 4 * 60},
    },
    "surveys.reminders_send": {
        "task": "surveys.tasks.reminders_send",
        "schedule": crontab(minute=20),
        "options": {"expires": 50 * 60},
    },
    # The counts behind large scopes' survey results (see surveys/tallies.py).
    "surveys.tallies_rebuild": {
        "task": "surveys.tasks.tallies_rebuild",
        "schedule": 60 * 5,
        "options": {"expires": 4 * 60},
    },
    # The CS operations' closed months counted ahead of time (see metrics/operations_tallies.py).
    "metrics.operations_tallies_rebuild": {
        "task": "metrics.tasks.operations_tallies_rebuild",
        "schedule": 60 * 10,
        "options": {"expires": 9 * 60},
    },
    # Every metrics period rebuilt from the ledger, after the ledger's own nightly sync.
    "metrics.rollups_rebuild": {
        "task": "metrics.tasks.rollups_rebuild",
        "schedule": crontab(hour=0, minute=45),
        "options": {"expires": 6 * 60 * 60},
    },
    # Yesterday's usage rebuilt from the raw events (each ingest also rolls up the days it touched).
    "health.usage_rollup_yesterday": {
        "task": "health.tasks.usage_rollup_yesterday",
        "schedule": crontab(hour=0, minute=30),
        "options": {"expires": 6 * 60 * 60},
    },
    # Raw usage events older than LEME_USAGE_RETENTION_DAYS go; the daily rollups stay.
    "health.usage_events_prune": {
        "task": "health.tasks.usage_events_prune",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 6 * 60 * 60},
    },
    # Every customer's health score of the day, from the usage rolled up overnight.
    "health.scores_recompute": {
        "task": "health.tasks.scores_recompute",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 6 * 60 * 60},
    },
    # The tallies the database keeps, proved against their rows once a night and rebuilt if they differ (core.tally):
    # the health bands after the health run, the first values and the customer book before the day starts.
    "health.band_tally_mend": {
        "task": "health.tasks.band_tally_mend",
        "schedule": crontab(hour=4, minute=15),
        "options": {"expires": 2 * 60 * 60},
    },
    "portfolio.tallies_mend": {
        "task": "portfolio.tasks.tallies_mend",
        "schedule": crontab(hour=4, minute=45),
        "options": {"expires": 2 * 60 * 60},
    },
    # Playbook steps that are due (each step once: playbooks/engine.py).
    "playbooks.runs_advance": {
        "task": "playbooks.tasks.runs_advance",
        "schedule": 60 * 3,
        "options": {"expires": 2 * 60},
    },
    # Playbook emails that are due (in the send window); advancing runs also queues a send.
    "playbooks.emails_send": {
        "task": "playbooks.tasks.emails_send",
        "schedule": 60 * 5,
        "options": {"expires": 4 * 60},
    },
    # Renewal in N days, review due in N days, no touch in N days: enrolled once a day, set-based.
    "playbooks.date_triggers_check": {
        "task": "playbooks.tasks.date_triggers_check",
        "schedule": crontab(hour=5, minute=30),
        "options": {"expires": 6 * 60 * 60},
    },
}

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Hashed API tokens (accounts.ApiToken): "Authorization: Token <key>" or "Bearer <key>".
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # A view that sets its own permission_classes keeps TokenScopeAllows among them (an integration token only
    # posts usage events; tests/accounts/test_api_tokens.py walks every route).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.api.permissions.TokenScopeAllows",
    ],
    # DRF's parsers, with a JSON one that answers 400 to a body nested too deeply (core/api.py).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Anonymous and failed-auth requests are counted per client address by config.middleware.ApiThrottleMiddleware
    # before DRF authenticates anything ("anon"); logged-in people per person by core.api.UserRateThrottle.
    "DEFAULT_THROTTLE_CLASSES": ["core.api.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("LEME_API_ANON_RATE", default="60/minute"),
        "user": env.str("LEME_API_USER_RATE", default="600/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Leme API",
    "DESCRIPTION": "Feed Leme from billing and product-usage systems; read what the CS team sees.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated", "accounts.api.permissions.TokenScopeAllows"],
    # The documentation page's assets are served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Fields named alike with different choices: a person's role and a contact's role.
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "accounts.models.Role",
        "ContactRoleEnum": "portfolio.models.ContactRole",
    },
}

# --- Logging ------------------------------------------------------------------------------------
# LOG_FORMAT "text" (the default outside production) or "json" (one object per line, production's default);
# both keep the fields passed in extra= (config/logs.py). The worker and the beat log the same way.
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"text": {"()": "config.logs.TextFormatter"}, "json": {"()": "config.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
LEME_DELINQUENCY_CHURN_DAYS = env.int("LEME_DELINQUENCY_CHURN_DAYS", default=15)
# A large CSV import queued or running this many minutes without news (its worker died: the rows it was writing
# were rolled back) is queued again, up to LEME_IMPORT_JOB_ATTEMPTS runs in all, then failed; its page says so.
LEME_IMPORT_JOB_STALE_MINUTES = env.int("LEME_IMPORT_JOB_STALE_MINUTES", default=15)
LEME_IMPORT_JOB_ATTEMPTS = env.int("LEME_IMPORT_JOB_ATTEMPTS", default=2)
# Survey emails: how many per second may go out, all campaigns and workers together (0 = no limit; shared
# through Redis under LEME_SURVEY_PACE_KEY when the broker is Redis, per process otherwise), how many rows one
# SMTP connection carries, how often a temporarily refused email is tried before it counts as failed,
# and the mailbox that takes "unsubscribe" emails (List-Unsubscribe's mailto).
LEME_SURVEY_SEND_RATE = env.float("LEME_SURVEY_SEND_RATE", default=20.0)
LEME_SURVEY_PACE_KEY = env("LEME_SURVEY_PACE_KEY", default="leme:surveys:send-pace")
LEME_SURVEY_BATCH_SIZE = env.int("LEME_SURVEY_BATCH_SIZE", default=200)
# How many SMTP connections one worker sends a campaign's surveys on at once (core.mail.lanes: the worker
# steps through one email's exchange on each in turn, so the server answers them all while it waits for one).
# The pace above still holds for all of them together. Each connection carries at most LEME_SURVEY_BATCH_SIZE
# emails before a fresh one is opened. Lower it if the SMTP provider limits concurrent connections per account
# (every worker sending a campaign opens this many); 1 sends email after email on one connection.
LEME_SURVEY_SMTP_CONNECTIONS = env.int("LEME_SURVEY_SMTP_CONNECTIONS", default=4)
LEME_SURVEY_MAX_ATTEMPTS = env.int("LEME_SURVEY_MAX_ATTEMPTS", default=5)
# The workspace's fatigue rule: a campaign that surveys a contact again sooner starts only when a leader confirms it.
LEME_SURVEY_FATIGUE_DAYS = env.int("LEME_SURVEY_FATIGUE_DAYS", default=90)
# Survey results of users who see at least this many customers are counted from the tallies rebuilt every
# five minutes (0: everyone, a CSM too; -1: never), while the last build is younger than
# LEME_SURVEY_TALLIES_MAX_AGE seconds. The tallies keep each customer's people, so the door scopes them exactly
# as it scopes customers, whoever reads them.
LEME_SURVEY_TALLIES_FROM = env.int("LEME_SURVEY_TALLIES_FROM", default=0)
LEME_SURVEY_TALLIES_MAX_AGE = env.int("LEME_SURVEY_TALLIES_MAX_AGE", default=30 * 60)
# The CS operations' flow figures (first values, handoffs, detractor loops, NPS) of closed months are read from the
# tallies rebuilt every ten minutes while the last build is younger than this many seconds; older (a stopped beat),
# every month is counted live. The running month is always counted live.
LEME_OPERATIONS_TALLIES_MAX_AGE = env.int("LEME_OPERATIONS_TALLIES_MAX_AGE", default=30 * 60)
# The public survey pages (/s/<token>/...): requests per client address and per link, refused with 429.
LEME_SURVEY_PUBLIC_RATES = {
    "address": env.str("LEME_SURVEY_PUBLIC_RATE_ADDRESS", default="120/minute"),
    "token": env.str("LEME_SURVEY_PUBLIC_RATE_TOKEN", default="20/minute"),
}
# Raw product-usage events are kept this many days (13 months: a year back plus the month being compared);
# older ones are deleted nightly and refused on arrival. The daily rollups (health.UsageDay) stay.
LEME_USAGE_RETENTION_DAYS = env.int("LEME_USAGE_RETENTION_DAYS", default=396)
LEME_UNSUBSCRIBE_MAILTO = env("LEME_UNSUBSCRIBE_MAILTO", default="unsubscribe@leme.example")
# Playbook (tech-touch) emails: at most this many to one contact in 7 days, all playbooks together (what the cap
# holds back is not sent later), and the workspace's send window, ISO weekdays and hours in TIME_ZONE
# ("1-5 09:00-18:00": Monday to Friday, nine to six); emails due outside it wait for the next opening.
LEME_PLAYBOOK_EMAIL_CAP = env.int("LEME_PLAYBOOK_EMAIL_CAP", default=2)
LEME_PLAYBOOK_EMAIL_WINDOW = env.str("LEME_PLAYBOOK_EMAIL_WINDOW", default="1-5 09:00-18:00")
