"""The Django admin: superusers only, and every name it shows is in Portuguese."""

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.utils import translation
from django.utils.text import capfirst

from accounts.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LEME_APPS = ("accounts", "portfolio", "surveys", "health", "metrics", "playbooks", "demo")


def test_staff_who_are_not_superusers_are_sent_to_the_admin_login(client_for):
    staff = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=False)
    response = client_for(staff).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    # The login page tells them they are not allowed, and a model page refuses them too.
    login = client_for(staff).get(response["Location"])
    assert login.status_code == 200
    assert "não está autorizado" in login.text
    assert client_for(staff).get("/admin/accounts/user/").status_code == 302


def test_an_inactive_superuser_may_not_enter():
    user = UserFactory(is_staff=True, is_superuser=True, is_active=False)
    request = type("Request", (), {"user": user})()
    assert admin.site.has_permission(request) is False


def test_a_superuser_enters_the_admin(client_for):
    superuser = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    assert client_for(superuser).get("/admin/").status_code == 200
    assert client_for(superuser).get("/admin/axes/accessattempt/").status_code == 200


def _rendered_names(html: str) -> tuple[list[str], list[str]]:
    """The app captions and model links of the admin index."""
    captions = re.findall(r"<caption>\s*<a [^>]*>([^<]+)</a>", html)
    models = re.findall(r'<th scope="row" id="[^"]*">\s*<a [^>]*>([^<]+)</a>', html)
    return [c.strip() for c in captions], [m.strip() for m in models]


def test_the_admin_index_in_portuguese_shows_no_english_names(client_for):
    superuser = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True, language="pt-br")
    html = client_for(superuser).get("/admin/", headers={"accept-language": "pt-br"}).text
    captions, models = _rendered_names(html)

    assert "Proteção do login" in captions
    for name in ("Tentativas de acesso", "Registros de acesso", "Falhas de acesso"):
        assert name in models
    # Every registered model, from Leme or a third-party app, shows its pt-BR plural; none its English one.
    with translation.override("en"):
        english = {capfirst(str(m._meta.verbose_name_plural)) for m in admin.site._registry}
        english |= {str(m._meta.app_config.verbose_name) for m in admin.site._registry}
    with translation.override("pt-br"):
        portuguese = {capfirst(str(m._meta.verbose_name_plural)) for m in admin.site._registry}
    assert len(models) == len(admin.site._registry)
    assert set(models) == portuguese
    same_in_both = {"Tags"}  # the word Leme's users say in both languages
    assert not (set(models) | set(captions)) & (english - same_in_both)


def test_every_leme_model_name_has_a_pt_br_translation():
    from django.utils.translation import trans_real

    catalogue = trans_real.translation("pt-br")
    missing = []
    for label in LEME_APPS:
        for model in apps.get_app_config(label).get_models():
            for name in (model._meta.verbose_name, model._meta.verbose_name_plural):
                with translation.override("en"):
                    msgid = str(name)
                if not catalogue._catalog.get(msgid):
                    missing.append(f"{label}.{model.__name__}: {msgid}")
    assert missing == []
