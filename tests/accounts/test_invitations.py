import re

import pytest
from django.core import mail

from accounts import emails, services
from accounts.models import Invitation, Role, User

INVITE = {"email": "nova@empresa.com.br", "full_name": "Nova Pessoa", "role": "csm", "language": "pt-br"}


def link_in(message) -> str:
    return re.search(r"http://testserver(/invite/\S+/)", message.body).group(1)


@pytest.mark.django_db
def test_admin_invites_and_the_email_goes_out_after_commit(org, client_for, django_capture_on_commit_callbacks):
    client = client_for(org.admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/team/invite/", {**INVITE, "team": org.team_a.pk})
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert mail.outbox == []
    callbacks[0]()
    assert [m.to for m in mail.outbox] == [["nova@empresa.com.br"]]
    invitation = Invitation.objects.get(email="nova@empresa.com.br")
    assert invitation.sent_at is not None
    assert invitation.team == org.team_a


@pytest.mark.django_db
def test_the_link_creates_the_user_with_role_and_team(org, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(invited_by=org.admin, team=org.team_b, **{**INVITE, "role": Role.ISM})
    link = link_in(mail.outbox[0])
    assert client.get(link).status_code == 200
    response = client.post(
        link, {"full_name": "Nova Pessoa", "password1": "uma-senha-boa-42", "password2": "uma-senha-boa-42"}
    )
    assert response.status_code == 302
    user = User.objects.get(email="nova@empresa.com.br")
    assert (user.role, user.team, user.full_name) == (Role.ISM, org.team_b, "Nova Pessoa")
    assert client.get("/").status_code == 200
    again = client.get(link)
    assert again.status_code == 410
    assert "já foi usado" in again.text


@pytest.mark.django_db
def test_a_weak_password_keeps_what_was_typed(org, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(invited_by=org.admin, **INVITE)
    link = link_in(mail.outbox[0])
    response = client.post(link, {"full_name": "Nome Digitado", "password1": "12345678", "password2": "12345678"})
    assert response.status_code == 422
    assert 'value="Nome Digitado"' in response.text
    assert not User.objects.filter(email="nova@empresa.com.br").exists()


@pytest.mark.django_db
def test_withdrawn_and_tampered_links_are_refused(org, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.invitation_create(invited_by=org.admin, **INVITE)
    link = link_in(mail.outbox[0])
    assert client.get(link[:-3] + "xx/").status_code == 410
    services.invitation_revoke(invitation=invitation)
    response = client.get(link)
    assert response.status_code == 410
    assert "retirado" in response.text


@pytest.mark.django_db
def test_expired_link_is_refused(org, client, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(invited_by=org.admin, **INVITE)
    settings.INVITATION_MAX_AGE_DAYS = -1
    response = client.get(link_in(mail.outbox[0]))
    assert response.status_code == 410
    assert "expirou" in response.text


@pytest.mark.django_db
def test_inviting_an_existing_address_is_refused_with_the_form_kept(org, client_for):
    response = client_for(org.admin).post("/team/invite/", {**INVITE, "email": org.csm_a.email.upper()})
    assert response.status_code == 422
    assert "já usa este email" in response.text
    assert 'value="Nova Pessoa"' in response.text


@pytest.mark.django_db
def test_inviting_twice_resends_one_invitation(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(invited_by=org.admin, **INVITE)
        services.invitation_create(invited_by=org.admin, **{**INVITE, "role": Role.FARMER})
    assert Invitation.objects.filter(email="nova@empresa.com.br").count() == 1
    assert Invitation.objects.get().role == Role.FARMER
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_htmx_invite_form_returns_the_partial_with_errors(org, client_for):
    response = client_for(org.admin).post("/team/invite/", {**INVITE, "email": "não é email"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert response.text.lstrip().startswith("<form")
    assert "<html" not in response.text
    assert "email válido" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["leader", "csm", "ism", "farmer", "viewer"])
def test_only_admins_invite(org, client_for, role):
    user = {"leader": org.leader_a, "csm": org.csm_a, "ism": org.ism_a, "farmer": org.farmer_a, "viewer": org.viewer_a}
    assert client_for(user[role]).post("/team/invite/", INVITE).status_code == 403
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_sending_a_closed_invitation_does_nothing(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        invitation = services.invitation_create(invited_by=org.admin, **INVITE)
    services.invitation_revoke(invitation=invitation)
    assert emails.invitation_send(invitation_id=invitation.pk) is False
    assert mail.outbox == []
