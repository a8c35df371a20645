import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

# Everything production requires, pointing at this machine's services.
PRODUCTION_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(64),
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/15"),
    "EMAIL_URL": "smtp://127.0.0.1:25",
    "SITE_URL": "https://leme.example.com",
}


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    dropped = {
        "SECRET_KEY",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "DATABASE_URL",
        "EMAIL_URL",
        "SITE_URL",
        "LOG_FORMAT",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def manage(*args: str, **env) -> subprocess.CompletedProcess:
    return run_python(f"import sys; sys.argv = ['manage.py', *{list(args)!r}]; import manage; manage.main()", **env)


def test_defaults_are_brazilian():
    assert settings.LANGUAGE_CODE == "pt-br"
    assert settings.TIME_ZONE == "America/Sao_Paulo"
    assert [code for code, _ in settings.LANGUAGES] == ["pt-br", "en"]
    assert settings.AUTH_USER_MODEL == "accounts.User"


def test_embedded_default_runs_tasks_in_process_on_sqlite(tmp_path):
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.local'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.CELERY_TASK_ALWAYS_EAGER, s.DATABASES['default']['ENGINE'], s.EMAIL_BACKEND)",
        DATABASE_URL="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "django.db.backends.sqlite3",
        "config.mail.EmlFileBackend",
    ]


def test_a_broker_url_turns_on_the_real_queue():
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.local'; django.setup();"
        "from django.conf import settings as s; print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    assert result.stdout.split() == ["False", "redis://127.0.0.1:6379/3"]


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("key", ["short", ""])
def test_production_refuses_a_weak_secret_key(key):
    result = manage("check", DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY=key)
    assert result.returncode != 0


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        (["DATABASE_URL"], "DATABASE_URL must be set"),
        (["REDIS_URL"], "CELERY_BROKER_URL or REDIS_URL must be set"),
        (["EMAIL_URL"], "EMAIL_URL must be set"),
        (["SITE_URL"], "SITE_URL must be set"),
    ],
)
def test_production_refuses_to_start_on_a_development_default(missing, named):
    env = {**PRODUCTION_ENV, **dict.fromkeys(missing, "")}
    result = manage("check", DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_production_takes_the_broker_under_either_name():
    env = {**PRODUCTION_ENV, "REDIS_URL": "", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/4"}
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL, s.EMAIL_BACKEND, s.SITE_URL)",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "redis://127.0.0.1:6379/4",
        "django.core.mail.backends.smtp.EmailBackend",
        "https://leme.example.com",
    ]


def test_check_deploy_is_clean_under_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_celery_is_configured_for_reliability():
    from config.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.task_time_limit > app.conf.task_soft_time_limit > 0
    assert app.conf.worker_prefetch_multiplier == 1
    assert "accounts.clean_access_attempts" in app.conf.beat_schedule


def test_translations_are_compiled_and_shipped():
    po = ROOT / "locale" / "pt_BR" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    assert mo.is_file()
    assert mo.stat().st_mtime >= po.stat().st_mtime - 1


def test_production_counts_rate_limits_in_redis_shared_by_every_process():
    result = run_python(
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings.production'; django.setup();"
        "from django.conf import settings as s; c = s.CACHES['default']; print(c['BACKEND'], c['LOCATION'])",
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.core.cache.backends.redis.RedisCache", PRODUCTION_ENV["REDIS_URL"]]
