"""Employees who do not use Leme (surveys.employees): the CSV import (preview, all-or-nothing commit,
idempotence, row errors, who may, the team column), eNPS planning to the imported list and to both with
de-duplication, a real send to them, anonymity of their answers in results, CSV and API, and which leaders
count them (their team's)."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from accounts.models import User
from surveys import answers, dispatch, employees, planning, reminders, selectors, tokens
from surveys.exports import ENPS_CSV_COLUMNS
from surveys.models import Campaign, Delivery, DeliveryStatus, EmployeeRecipient, SurveyKind
from surveys.results import survey_results
from surveys.selectors import Scope
from tests.factories import TeamFactory, UserFactory
from tests.surveys.factories import CampaignFactory, active_campaign

pytestmark = pytest.mark.django_db

PEOPLE = """email,name,language,department
ana.souza@acme.com.br,Ana Souza,pt-br,Financeiro
John.Smith@acme.com,John Smith,en,Sales
carla@acme.com.br,Carla Dias,,
"""


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.LEME_SURVEY_SEND_RATE = 0


@pytest.fixture(autouse=True)
def _in_english(org):
    """Messages in English: the services' (this thread) and the pages' (the users' language)."""
    User.objects.update(language="en")
    with translation.override("en"):
        yield


def import_people(actor, text: str = PEOPLE):
    return employees.employee_import(text=text, actor=actor, commit=True)


def upload(client, text: str):
    return client.post("/surveys/employees/", {"file": SimpleUploadedFile("people.csv", text.encode())})


def parts(message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }


# --- The import ------------------------------------------------------------------------------------------


def test_preview_reports_every_row_and_writes_nothing(org):
    report = employees.employee_import(text=PEOPLE, actor=org.admin)

    assert report.ok
    assert [(r.line, r.key, r.action) for r in report.rows] == [
        (2, "ana.souza@acme.com.br", "create"),
        (3, "john.smith@acme.com", "create"),
        (4, "carla@acme.com.br", "create"),
    ]
    assert not EmployeeRecipient.objects.exists()


def test_commit_creates_everyone_with_their_language_and_department(org):
    import_people(org.leader_a)

    people = {r.email: r for r in EmployeeRecipient.objects.all()}
    assert set(people) == {"ana.souza@acme.com.br", "john.smith@acme.com", "carla@acme.com.br"}
    assert people["john.smith@acme.com"].language == "en"
    assert people["john.smith@acme.com"].name == "John Smith"
    assert people["ana.souza@acme.com.br"].department == "Financeiro"
    assert people["carla@acme.com.br"].language == "pt-br"
    assert all(p.active for p in people.values())


def test_importing_the_same_file_again_changes_nothing(org):
    import_people(org.admin)

    again = import_people(org.admin)

    assert [r.action for r in again.rows] == ["unchanged"] * 3
    assert EmployeeRecipient.objects.count() == 3


def test_rows_are_matched_by_email_whatever_the_case_and_updated(org):
    import_people(org.admin)

    report = import_people(org.admin, "email,name,language\nJOHN.SMITH@ACME.COM,John P. Smith,pt-br\n")

    assert [r.action for r in report.rows] == ["update"]
    john = EmployeeRecipient.objects.get(email="john.smith@acme.com")
    assert (john.name, john.language, john.department) == ("John P. Smith", "pt-br", "Sales")
    assert EmployeeRecipient.objects.count() == 3


def test_active_no_takes_someone_off_the_list(org):
    import_people(org.admin)

    report = import_people(org.admin, "email,active\ncarla@acme.com.br,no\n")

    assert [r.action for r in report.rows] == ["update"]
    assert not EmployeeRecipient.objects.get(email="carla@acme.com.br").active
    assert EmployeeRecipient.objects.filter(active=True).count() == 2


def test_row_errors_bad_email_duplicate_and_unknown_language(org):
    text = (
        "email,name,language\n"
        "not-an-email,Someone,pt-br\n"
        "ana@acme.com.br,Ana,pt-br\n"
        "ANA@acme.com.br,Ana again,en\n"
        "bia@acme.com.br,Bia,fr\n"
        ",Nobody,en\n"
        "ok@acme.com.br,Ok,en\n"
    )

    report = employees.employee_import(text=text, actor=org.admin)

    assert not report.ok
    errors = {r.line: " ".join(r.errors) for r in report.rows}
    assert "not an email address" in errors[2]
    assert errors[3] == ""
    assert "repeats line 3" in errors[4]
    assert '"fr" is not pt-br or en' in errors[5]
    assert "email: required" in errors[6]
    assert errors[7] == ""
    assert [r.action for r in report.rows] == ["error", "create", "error", "error", "error", "create"]


def test_a_file_with_one_bad_row_imports_nothing(org):
    text = "email,name\ngood@acme.com.br,Good\nbad@@acme,Bad\n"

    with pytest.raises(employees.ImportFailed) as failed:
        employees.employee_import(text=text, actor=org.admin, commit=True)

    assert [r.line for r in failed.value.report.error_rows] == [3]
    assert not EmployeeRecipient.objects.exists()


def test_a_file_without_the_email_column_or_with_unknown_columns_is_refused(org):
    assert "lacks the columns: email" in employees.employee_import(text="name\nAna\n", actor=org.admin).errors[0]
    report = employees.employee_import(text="email,salary\na@acme.com,10\n", actor=org.admin)
    assert "Unknown columns: salary" in report.errors[0]


@pytest.mark.parametrize("who", ["csm_a", "viewer_a", "viewer_all", "ism_a"])
def test_only_admins_and_leaders_import(org, who):
    with pytest.raises(PermissionDenied):
        employees.employee_import(text=PEOPLE, actor=getattr(org, who))


# --- The page --------------------------------------------------------------------------------------------


def test_the_page_previews_then_imports_on_confirmation(org, client_for):
    client = client_for(org.leader_a)
    assert client.get("/surveys/employees/").status_code == 200

    preview = upload(client, PEOPLE)

    assert preview.status_code == 200
    assert preview.context["report"].ok
    assert "Import all rows" in preview.text
    assert not EmployeeRecipient.objects.exists()
    done = client.post("/surveys/employees/", {"confirm": "1"})
    assert done.status_code == 302
    assert EmployeeRecipient.objects.count() == 3
    assert client.get("/surveys/employees/").context["counts"] == {"active": 3, "inactive": 0}


def test_the_page_shows_row_errors_and_offers_no_import(org, client_for):
    client = client_for(org.admin)

    page = upload(client, "email,language\nbad,pt-br\nok@acme.com,xx\n")

    assert page.status_code == 422
    assert "not an email address" in page.text
    assert "xx&quot; is not pt-br or en" in page.text
    assert "Import all rows" not in page.text
    assert client.post("/surveys/employees/", {"confirm": "1"}).status_code == 302
    assert not EmployeeRecipient.objects.exists()


@pytest.mark.parametrize("who", ["csm_a", "viewer_a", "viewer_all"])
def test_csms_and_viewers_get_403(org, client_for, who):
    client = client_for(getattr(org, who))
    assert client.get("/surveys/employees/").status_code == 403
    assert upload(client, PEOPLE).status_code == 403
    assert client.post("/surveys/employees/", {"confirm": "1"}).status_code == 403
    assert not EmployeeRecipient.objects.exists()


def test_the_enps_campaign_page_links_to_the_import_and_says_whom_it_asks(org, client_for):
    campaign = CampaignFactory(kind="enps", audience={"employees": "both"}, actor=org.admin)

    page = client_for(org.admin).get(f"/surveys/{campaign.pk}/")

    assert "/surveys/employees/" in page.text
    assert page.context["employees_audience"] == "Both"


# --- The campaign's audience -----------------------------------------------------------------------------


def test_the_form_stores_the_enps_audience_and_defaults_to_leme_users(org, client_for):
    client = client_for(org.admin)
    assert 'name="employees" value="list"' in client.get("/surveys/new/?kind=enps").text
    form = {
        "name": "eNPS 2026",
        "kind": "enps",
        "question_pt": "",
        "question_en": "",
        "mode": "now",
        "fatigue_days": 90,
        "reminder_after_days": 4,
        "expires_after_days": 30,
    }

    client.post("/surveys/new/", {**form, "employees": "list"})
    client.post("/surveys/new/", {**form, "name": "eNPS padrão"})
    client.post("/surveys/new/", {**form, "name": "NPS", "kind": "nps", "employees": "list"})

    audiences = {c.name: c.audience.get("employees") for c in Campaign.objects.all()}
    assert audiences == {"eNPS 2026": "list", "eNPS padrão": "users", "NPS": None}


def test_an_unknown_enps_audience_is_refused(org):
    with pytest.raises(ValidationError):
        CampaignFactory(kind="enps", audience={"employees": "everyone"}, actor=org.admin)


# --- Planning --------------------------------------------------------------------------------------------


def test_users_only_by_default_keeps_the_list_out(org):
    import_people(org.admin)
    campaign = active_campaign(kind="enps", audience={"owners": [org.csm_a.pk]})

    planning.campaign_plan(campaign_id=campaign.pk)

    deliveries = Delivery.objects.filter(campaign=campaign)
    assert [(d.employee_id, d.recipient_id) for d in deliveries] == [(org.csm_a.pk, None)]


def test_the_list_gets_one_delivery_each_in_their_language_and_not_the_inactive(org):
    import_people(org.admin)
    import_people(org.admin, "email,active\ncarla@acme.com.br,no\n")
    campaign = active_campaign(kind="enps", audience={"employees": "list"})

    result = planning.campaign_plan(campaign_id=campaign.pk)
    again = planning.campaign_plan(campaign_id=campaign.pk)

    assert result.pending == 2
    assert again is None
    rows = {d.email: d for d in Delivery.objects.filter(campaign=campaign)}
    assert set(rows) == {"ana.souza@acme.com.br", "john.smith@acme.com"}
    assert rows["john.smith@acme.com"].language == "en"
    assert rows["ana.souza@acme.com.br"].language == "pt-br"
    assert {(d.employee_id, d.contact_id, d.status) for d in rows.values()} == {(None, None, DeliveryStatus.PENDING)}


def test_both_asks_a_user_who_is_also_on_the_list_once(org):
    # given a Leme user whose email is on the list too, in another case
    org.csm_a.email = "lucas@acme.com.br"
    org.csm_a.save()
    import_people(org.admin, PEOPLE + "LUCAS@ACME.COM.BR,Lucas Almeida,pt-br,CS\n")
    campaign = active_campaign(kind="enps", audience={"employees": "both", "owners": [org.csm_a.pk, org.csm_b.pk]})

    # when
    result = planning.campaign_plan(campaign_id=campaign.pk)

    # then
    deliveries = list(Delivery.objects.filter(campaign=campaign))
    assert result.pending == 5
    assert sorted(d.email.lower() for d in deliveries) == sorted(
        ["lucas@acme.com.br", org.csm_b.email, "ana.souza@acme.com.br", "john.smith@acme.com", "carla@acme.com.br"]
    )
    lucas = [d for d in deliveries if d.email.lower() == "lucas@acme.com.br"]
    assert [(d.employee_id, d.recipient_id) for d in lucas] == [(org.csm_a.pk, None)]


def test_recurring_rounds_ask_the_list_again_once_per_round(org):
    import_people(org.admin)
    campaign = active_campaign(kind="enps", audience={"employees": "list"}, mode="recurring", every_days=30)
    start = timezone.now()

    planning.campaign_plan(campaign_id=campaign.pk, now=start)
    planning.campaign_plan(campaign_id=campaign.pk, now=start + timedelta(hours=2))
    planning.campaign_plan(campaign_id=campaign.pk, now=start + timedelta(days=31))

    rounds = Delivery.objects.filter(campaign=campaign, email="john.smith@acme.com").values_list("round", flat=True)
    assert list(rounds) == [1, 2]


# --- Sending ---------------------------------------------------------------------------------------------


def test_a_real_send_reaches_the_list_in_their_language_without_opt_out(org, smtp_server):
    inbox, _url = smtp_server
    import_people(org.admin)
    campaign = active_campaign(kind="enps", audience={"employees": "list"}, company="Acme")

    planning.campaign_plan(campaign_id=campaign.pk)
    result = dispatch.deliveries_send_pending(campaign_id=campaign.pk)

    assert result.sent == 3
    messages = {m["To"]: m for m in inbox.wait_for(3)}
    assert set(messages) == {"ana.souza@acme.com.br", "john.smith@acme.com", "carla@acme.com.br"}
    john = messages["john.smith@acme.com"]
    assert john["Content-Language"] == "en"
    assert john["List-Unsubscribe"] is None
    text = parts(john)["text/plain"]
    assert "Hello John," in text
    assert "how likely are you to recommend Acme as a place to work" in text
    assert "You receive this survey because you work with us." in text
    assert messages["ana.souza@acme.com.br"]["Content-Language"] == "pt-BR"
    assert "Olá, Ana," in parts(messages["ana.souza@acme.com.br"])["text/plain"]
    assert set(Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_reminders_reach_the_list_but_not_who_left_it(org, smtp_server):
    # given a list campaign sent five days ago, one person since taken off the list
    inbox, _url = smtp_server
    import_people(org.admin)
    campaign = active_campaign(kind="enps", audience={"employees": "list"}, reminder_after_days=4)
    five_days_ago = timezone.now() - timedelta(days=5)
    planning.campaign_plan(campaign_id=campaign.pk, now=five_days_ago)
    dispatch.deliveries_send_pending(campaign_id=campaign.pk, now=five_days_ago)
    inbox.wait_for(3)
    import_people(org.admin, "email,active\ncarla@acme.com.br,no\n")

    # when
    result = reminders.reminders_send_due()

    # then
    assert result.sent == 2
    reminder_emails = inbox.wait_for(5)[3:]
    assert {m["To"] for m in reminder_emails} == {"ana.souza@acme.com.br", "john.smith@acme.com"}


def test_the_unsubscribe_link_of_a_list_delivery_says_internal_and_anonymous(org, client):
    import_people(org.admin)
    campaign = active_campaign(kind="enps", audience={"employees": "list"})
    planning.campaign_plan(campaign_id=campaign.pk)
    delivery = Delivery.objects.filter(campaign=campaign, email="john.smith@acme.com").get()

    page = client.post(f"/s/{tokens.token_for(delivery.token_salt)}/unsubscribe/")

    assert "This is an internal survey" in page.text
    assert "anonymous" in page.text


# --- Anonymity -------------------------------------------------------------------------------------------


NAMES = ["Ana Souza", "John Smith", "Carla Dias", "Davi Rocha", "Elisa Prado"]
EMAILS = ["ana.souza@acme.com.br", "john.smith@acme.com", "carla@acme.com.br", "davi@acme.com.br", "elisa@acme.com.br"]


@pytest.fixture
def answered_by_the_list(org):
    """Five people of the list answered an eNPS campaign (enough to show)."""
    text = "email,name,department\n" + "".join(f"{e},{n},Financeiro\n" for e, n in zip(EMAILS, NAMES, strict=True))
    import_people(org.admin, text)
    campaign = active_campaign(kind="enps", audience={"employees": "list"}, name="eNPS da empresa")
    planning.campaign_plan(campaign_id=campaign.pk)
    now = timezone.now()
    Delivery.objects.filter(campaign=campaign).update(status=DeliveryStatus.SENT, sent_at=now)
    for score, delivery in zip([10, 9, 9, 7, 3], Delivery.objects.filter(campaign=campaign), strict=True):
        answers.answer_record(delivery=delivery, score=score, comment=f"Comentário nota {score}")
    return campaign


def _names_nowhere(text: str) -> None:
    for value in [*NAMES, *EMAILS, "Financeiro"]:
        assert value not in text


def test_results_page_counts_the_list_and_names_nobody(org, client_for, answered_by_the_list):
    campaign = answered_by_the_list
    for url in (f"/surveys/{campaign.pk}/", "/surveys/results/enps/"):
        page = client_for(org.admin).get(url)
        assert page.status_code == 200
        assert not page.context["results"].summary.hidden
        assert "Comentário nota 3" in page.text
        _names_nowhere(page.text)
    assert client_for(org.admin).get(f"/surveys/{campaign.pk}/").context["counts"].planned == 5


def test_csv_has_no_identity_of_the_list(org, client_for, answered_by_the_list):
    response = client_for(org.admin).get(f"/surveys/{answered_by_the_list.pk}/export.csv")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert rows[0] == ENPS_CSV_COLUMNS
    assert len(rows) == 6
    _names_nowhere(str(rows))


def test_api_has_no_identity_of_the_list(org, api_for, answered_by_the_list):
    client = api_for(org.admin)

    listed = client.get("/api/v1/survey-responses/", {"kind": SurveyKind.ENPS})
    results = client.get(f"/api/v1/survey-campaigns/{answered_by_the_list.pk}/results/")

    rows = listed.json()["results"]
    assert len(rows) == 5
    assert {(r["delivery"], r["customer"], r["contact"]) for r in rows} == {(None, None, None)}
    assert set(rows[0]) == {
        *("id", "campaign", "kind", "score", "comment", "chi_answers", "answered_month", "answered_at", "updated_at"),
        *("delivery", "customer", "contact", "loop_closed_at"),
    }
    assert results.json()["answers"] == 5
    _names_nowhere(listed.text + results.text)


def test_csms_see_nothing_of_the_list(org, client_for, api_for, answered_by_the_list):
    assert client_for(org.csm_a).get(f"/surveys/{answered_by_the_list.pk}/").status_code == 404
    assert api_for(org.csm_a).get("/api/v1/survey-responses/", {"kind": "enps"}).json()["count"] == 0


# --- Teams -----------------------------------------------------------------------------------------------


def team_of(email: str):
    return EmployeeRecipient.objects.select_related("team").get(email=email).team


def test_the_team_column_matches_teams_in_any_case_and_blank_is_no_team(org):
    text = (
        "email,name,team\n"
        "ana@acme.com.br,Ana,Time Enterprise\n"
        "bia@acme.com.br,Bia,TIME smb\n"
        "carla@acme.com.br,Carla,\n"
        "davi@acme.com.br,Davi,  time enterprise  \n"
    )

    report = import_people(org.admin, text)

    assert [r.action for r in report.rows] == ["create"] * 4
    assert team_of("ana@acme.com.br") == org.team_a
    assert team_of("bia@acme.com.br") == org.team_b
    assert team_of("carla@acme.com.br") is None
    assert team_of("davi@acme.com.br") == org.team_a


def test_an_unknown_team_refuses_the_whole_import_with_the_rows_error(org):
    text = "email,team\nana@acme.com.br,Time Enterprise\nbia@acme.com.br,Time Marte\n"

    preview = employees.employee_import(text=text, actor=org.admin)
    with pytest.raises(employees.ImportFailed) as failed:
        import_people(org.admin, text)

    assert [(r.line, r.action, r.errors) for r in preview.rows] == [
        (2, "create", []),
        (3, "error", ['team: there is no team "Time Marte" in Leme.']),
    ]
    assert [(r.line, r.errors) for r in failed.value.report.error_rows] == [
        (3, ['team: there is no team "Time Marte" in Leme.'])
    ]
    assert not EmployeeRecipient.objects.exists()


def test_reimporting_changes_the_team_blank_clears_it_and_a_file_without_the_column_keeps_it(org):
    import_people(org.admin, "email,team\nana@acme.com.br,Time Enterprise\nbia@acme.com.br,Time SMB\n")

    moved = import_people(org.admin, "email,team\nana@acme.com.br,time smb\nbia@acme.com.br,Time SMB\n")
    assert [r.action for r in moved.rows] == ["update", "unchanged"]
    assert team_of("ana@acme.com.br") == org.team_b

    kept = import_people(org.admin, "email,name\nana@acme.com.br,Ana\n")
    assert [r.action for r in kept.rows] == ["update"]
    assert team_of("ana@acme.com.br") == org.team_b

    cleared = import_people(org.admin, "email,team\nana@acme.com.br,\n")
    assert [r.action for r in cleared.rows] == ["update"]
    assert team_of("ana@acme.com.br") is None
    assert team_of("bia@acme.com.br") == org.team_b


def test_a_name_shared_by_teams_in_other_cases_needs_the_exact_one(org):
    lower = TeamFactory(name="time enterprise")

    report = employees.employee_import(
        text="email,team\nana@acme.com.br,TIME ENTERPRISE\nbia@acme.com.br,time enterprise\n", actor=org.admin
    )

    assert [r.errors for r in report.rows] == [
        ['team: "TIME ENTERPRISE" matches several teams; write the name exactly.'],
        [],
    ]
    import_people(org.admin, "email,team\nbia@acme.com.br,time enterprise\ncarla@acme.com.br,Time Enterprise\n")
    assert team_of("bia@acme.com.br") == lower
    assert team_of("carla@acme.com.br") == org.team_a


def test_the_import_looks_teams_up_in_one_query(org, django_assert_num_queries):
    rows = "".join(f"p{n}@acme.com.br,{'Time Enterprise' if n % 2 else 'time smb'}\n" for n in range(40))

    # permission (the actor's role is loaded), teams, existing people; the write adds its own three
    with django_assert_num_queries(2):
        report = employees.employee_import(text="email,team\n" + rows, actor=org.admin)

    assert report.ok


def test_the_page_lists_each_person_with_their_team_in_constant_queries(org, client_for, django_assert_max_num_queries):
    # given a list of people in both teams and in none, which an admin reads whole
    client = client_for(org.admin)
    import_people(org.admin, "email,name,team\nana@acme.com.br,Ana Souza,Time Enterprise\nbia@acme.com.br,Bia,\n")
    with django_assert_max_num_queries(50) as few:
        small = client.get("/surveys/employees/")
    assert small.status_code == 200
    assert "<td>Ana Souza</td><td>Time Enterprise</td>" in small.text
    rows = "".join(f"p{n:03}@acme.com.br,P{n},{'Time Enterprise' if n % 2 else 'Time SMB'}\n" for n in range(80))
    import_people(org.admin, "email,name,team\n" + rows)

    # when
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/surveys/employees/")

    # then
    assert page.status_code == 200
    people = list(page.context["people"])
    assert len(people) == 50
    assert (people[0].email, people[0].team) == ("ana@acme.com.br", org.team_a)
    assert (people[1].email, people[1].team) == ("bia@acme.com.br", None)
    assert (people[2].email, people[2].team) == ("p000@acme.com.br", org.team_b)
    assert "<td>Ana Souza</td><td>Time Enterprise</td>" in page.text
    assert "<td>Bia</td><td>—</td>" in page.text
    assert "Page 1 of 2" in page.text
    last = client.get("/surveys/employees/?page=2")
    assert [p.email for p in last.context["people"]][-1] == "p079@acme.com.br"
    assert "<code>team</code>" in page.text


def test_the_django_admin_shows_and_filters_by_team(org, client):
    import_people(org.admin, "email,team\nana@acme.com.br,Time Enterprise\nbia@acme.com.br,Time SMB\n")
    client.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True))

    listed = client.get("/admin/surveys/employeerecipient/")
    filtered = client.get(f"/admin/surveys/employeerecipient/?team__id__exact={org.team_b.pk}")

    assert listed.status_code == 200
    assert "Time Enterprise" in listed.text
    assert [r.email for r in filtered.context["cl"].result_list] == ["bia@acme.com.br"]


# --- What each leader counts ----------------------------------------------------------------------------

# Team A: three people of the list and two Leme users; team B: two of the list and two users (four answers);
# one person of the list in no team.
TEAM_A_LIST = {"ana@acme.com.br": 10, "bia@acme.com.br": 9, "caio@acme.com.br": 3}
TEAM_B_LIST = {"dora@acme.com.br": 0, "edu@acme.com.br": 0}
NO_TEAM = {"fabi@acme.com.br": 8}


@pytest.fixture
def answered_by_teams(org):
    # given the list, by team, and a campaign asking the list and four Leme users
    text = "email,team\n" + "".join(
        f"{email},{team}\n"
        for people, team in ((TEAM_A_LIST, "Time Enterprise"), (TEAM_B_LIST, "time smb"), (NO_TEAM, ""))
        for email in people
    )
    import_people(org.admin, text)
    # when everyone answers
    return enps_by_teams(org, "eNPS por time", comment=True)


def enps_by_teams(org, name: str, *, comment: bool = False):
    """An eNPS campaign to the list and four Leme users, sent, and everyone's answer recorded."""
    users = {org.csm_a.email: 10, org.csm_a2.email: 6, org.csm_b.email: 10, org.leader_b.email: 9}
    campaign = active_campaign(
        kind="enps",
        audience={"employees": "both", "owners": [org.csm_a.pk, org.csm_a2.pk, org.csm_b.pk, org.leader_b.pk]},
        name=name,
    )
    planning.campaign_plan(campaign_id=campaign.pk)
    Delivery.objects.filter(campaign=campaign).update(status=DeliveryStatus.SENT, sent_at=timezone.now())
    scores = {**TEAM_A_LIST, **TEAM_B_LIST, **NO_TEAM, **users}
    for delivery in Delivery.objects.filter(campaign=campaign):
        score = scores[delivery.email]
        answers.answer_record(delivery=delivery, score=score, comment=f"nota {score}" if comment else "")
    return campaign


def results_for(user, campaign):
    return survey_results(user, Scope.of_campaign(campaign), detail=False)


def test_a_leader_counts_the_list_and_the_users_of_their_team(org, client_for, answered_by_teams):
    # team A: 10, 9, 3 (list) and 10, 6 (users): 3 promoters, 2 detractors of 5
    results = results_for(org.leader_a, answered_by_teams)

    assert (results.summary.count, results.summary.score, results.sent, results.answered) == (
        5,
        Decimal("20.0"),
        5,
        5,
    )
    page = client_for(org.leader_a).get(f"/surveys/{answered_by_teams.pk}/")
    assert page.context["counts"].planned == 5
    assert "nota 3" in page.text
    assert "nota 0" not in page.text  # team B's
    assert "nota 8" not in page.text  # no team's


def test_a_leader_whose_team_has_four_answers_sees_nothing(org, client_for, api_for, answered_by_teams):
    campaign = answered_by_teams

    results = results_for(org.leader_b, campaign)
    page = client_for(org.leader_b).get(f"/surveys/{campaign.pk}/")
    export = client_for(org.leader_b).get(f"/surveys/{campaign.pk}/export.csv")
    listed = api_for(org.leader_b).get("/api/v1/survey-responses/", {"kind": SurveyKind.ENPS})

    assert results.summary.hidden
    assert results.summary.count == 4
    assert results.summary.score is None
    assert selectors.enps_hidden(org.leader_b, campaign=campaign)
    assert not selectors.enps_hidden(org.leader_a, campaign=campaign)
    assert page.context["comment_page"].hidden
    assert "nota 0" not in page.text
    assert list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode()))) == [ENPS_CSV_COLUMNS]
    assert listed.json()["count"] == 0


def test_admins_count_everyone_including_the_list_in_no_team(org, api_for, answered_by_teams):
    # all ten: 10, 9, 3, 0, 0, 8 (list) and 10, 6, 10, 9 (users): 5 promoters, 4 detractors
    results = results_for(org.admin, answered_by_teams)

    assert (results.summary.count, results.summary.score, results.sent) == (10, Decimal("10.0"), 10)
    assert api_for(org.admin).get("/api/v1/survey-responses/", {"kind": SurveyKind.ENPS}).json()["count"] == 10


def test_csms_count_none_of_it(org, client_for, api_for, answered_by_teams):
    for user in (org.csm_a, org.csm_b, org.ism_a, org.viewer_a):
        assert not selectors.responses_visible_to(user).filter(kind=SurveyKind.ENPS).exists()
        assert not selectors.deliveries_visible_to(user).filter(campaign=answered_by_teams).exists()
        assert client_for(user).get(f"/surveys/{answered_by_teams.pk}/").status_code == 404
        assert api_for(user).get("/api/v1/survey-responses/", {"kind": SurveyKind.ENPS}).json()["count"] == 0


def test_moving_someone_to_another_team_leaves_their_answer_with_the_team_they_were_in(org, answered_by_teams):
    # given team A with five answers and team B with four
    # when one of team A's list moves to team B after answering
    import_people(org.admin, "email,team\nbia@acme.com.br,Time SMB\n")

    # then their answer stays with team A (a change of team reveals nothing): team A still shows 20.0 from
    # five answers and team B is still under the minimum
    stayed = results_for(org.leader_a, answered_by_teams).summary
    assert (stayed.count, stayed.score) == (5, Decimal("20.0"))
    assert results_for(org.leader_b, answered_by_teams).summary.hidden

    # and the next survey counts them in team B: 0, 0, 9 (list) and 10, 9 (users)
    campaign = enps_by_teams(org, "eNPS seguinte")
    moved = results_for(org.leader_b, campaign).summary
    assert (moved.count, moved.score) == (5, Decimal("20.0"))
    assert results_for(org.leader_a, campaign).summary.hidden
