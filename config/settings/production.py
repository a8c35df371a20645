"""Production: PostgreSQL, Redis, SMTP, HTTPS. Refuses to start on any development default: without a real
secret key, a database, a broker, an SMTP server or the public address it would otherwise run on SQLite, run
jobs inside the web process, write emails to files and email links to http://localhost:8000."""

from django.core.exceptions import ImproperlyConfigured

from .base import *
from .base import env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random string of at least 50 characters in production.")

REQUIRED_ENVIRONMENT = [
    (("DATABASE_URL",), "postgres://user:password@host:5432/leme; without it Leme would run on a SQLite file"),
    (
        ("CELERY_BROKER_URL", "REDIS_URL"),
        "redis://host:6379/0; without it background jobs would run inside the web process",
    ),
    (("EMAIL_URL",), "smtp+tls://user:password@smtp.example.com:587; without it emails would be written to files"),
    (("SITE_URL",), "the public address, https://leme.example.com; emailed links would point at localhost"),
]
for names, meaning in REQUIRED_ENVIRONMENT:
    if not any(env.str(name, default="").strip() for name in names):
        raise ImproperlyConfigured(f"{' or '.join(names)} must be set in production ({meaning}).")
# The rate limits' counters are shared by every web process: in Redis, LEME_CACHE_URL or else the broker's.
if not env.str("LEME_CACHE_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("CELERY_BROKER_URL", default="") or env.str("REDIS_URL"),
            "KEY_PREFIX": "leme",
        }
    }
# /healthz reports jobs running inside the web process as an error here (config/health.py).
LEME_IN_PROCESS_TASKS_ALLOWED = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Load balancers probe /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING = {**LOGGING, "handlers": {"console": {**LOGGING["handlers"]["console"], "formatter": LOG_FORMAT}}}
