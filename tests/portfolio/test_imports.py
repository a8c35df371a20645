import re

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from portfolio.imports import ImportFailed, import_run
from portfolio.models import Contact, Customer, MrrMovement, Subscription
from tests.portfolio.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = """external_id;name;cnpj;segment;service_model;owner_email;start_date
c-1;Padaria Pão Dourado;11.222.333/0001-81;smb;high;{owner};01/03/2025
c-2;Clínica Bem Viver;;mid;low;{owner};2025-04-10
"""


def customers_csv(org) -> str:
    return CUSTOMERS.format(owner=org.csm_a.email)


def test_preview_writes_nothing_and_says_what_would_happen(org):
    report = import_run(kind="customers", text=customers_csv(org), actor=org.leader_a)
    assert report.ok
    assert [(r.line, r.key, r.action) for r in report.rows] == [(2, "c-1", "create"), (3, "c-2", "create")]
    assert not Customer.objects.exists()


def test_commit_creates_then_a_second_import_changes_nothing(org):
    import_run(kind="customers", text=customers_csv(org), actor=org.leader_a, commit=True)
    assert set(Customer.objects.values_list("external_id", "owner")) == {("c-1", org.csm_a.pk), ("c-2", org.csm_a.pk)}
    again = import_run(kind="customers", text=customers_csv(org), actor=org.leader_a, commit=True)
    assert [r.action for r in again.rows] == ["unchanged", "unchanged"]
    assert Customer.objects.count() == 2


def test_one_bad_row_reports_each_problem_and_commits_nothing(org):
    text = (
        customers_csv(org)
        + "c-3;Mercado X;11.222.333/0001-82;giant;high;ninguem@x.com;31/02/2025\nc-1;Duplicada;;;;;\n"
    )
    with pytest.raises(ImportFailed) as failed:
        import_run(kind="customers", text=text, actor=org.leader_a, commit=True)
    errors = {r.line: " ".join(r.errors) for r in failed.value.report.rows if r.errors}
    assert set(errors) == {4, 5}
    for fragment in ("cnpj", "segment", "owner_email", "start_date"):
        assert fragment in errors[4]
    assert "repeats line 2" in errors[5] or "repete a linha 2" in errors[5]
    assert not Customer.objects.exists()


def test_missing_columns_are_reported(org):
    report = import_run(kind="customers", text="name\nPadaria\n", actor=org.leader_a)
    assert not report.ok
    assert "external_id" in report.errors[0]


def test_contacts_and_subscriptions_attach_to_imported_customers(org):
    import_run(kind="customers", text=customers_csv(org), actor=org.leader_a, commit=True)
    contacts = "external_id,customer_external_id,name,email,role\nk-1,c-1,Ana Souza,ana@padaria.com.br,decision_maker\n"
    import_run(kind="contacts", text=contacts, actor=org.leader_a, commit=True)
    assert Contact.objects.get(external_id="k-1").customer.external_id == "c-1"
    subs = (
        "external_id;customer_external_id;product;amount;billing_period;start_date\n"
        "s-1;c-1;Leme CRM;1.200,00;monthly;01/03/2025\n"
        "s-2;c-2;Leme CRM;12.000,00;annual;10/04/2025\n"
    )
    import_run(kind="subscriptions", text=subs, actor=org.leader_a, commit=True)
    assert Customer.objects.get(external_id="c-1").mrr_cents == 120_000
    assert Customer.objects.get(external_id="c-2").mrr_cents == 100_000
    assert MrrMovement.objects.filter(kind="new").count() == 2
    again = import_run(kind="subscriptions", text=subs, actor=org.leader_a, commit=True)
    assert [r.action for r in again.rows] == ["unchanged", "unchanged"]
    assert Subscription.objects.count() == 2


def test_rows_for_another_teams_customer_are_refused(org):
    other = CustomerFactory(owner=org.csm_b, external_id="b-1")
    text = "external_id,customer_external_id,name\nk-9,b-1,Espião\n"
    report = import_run(kind="contacts", text=text, actor=org.leader_a)
    assert not report.ok
    assert "b-1" in report.rows[0].errors[0]
    assert not other.contacts.exists()


def test_the_page_previews_then_imports_on_confirmation(org, client_for):
    client = client_for(org.leader_a)
    upload = SimpleUploadedFile("clientes.csv", customers_csv(org).encode("utf-8"), content_type="text/csv")
    preview = client.post("/portfolio/import/", {"kind": "customers", "file": upload})
    assert preview.status_code == 200
    assert "c-1" in preview.text
    assert 'name="confirm"' in preview.text
    assert not Customer.objects.exists()
    done = client.post("/portfolio/import/", {"confirm": "1"})
    assert done.status_code == 302
    assert Customer.objects.count() == 2


def test_the_page_shows_row_errors_with_422(org, client_for):
    upload = SimpleUploadedFile("c.csv", b"external_id;name;segment\nc-1;Padaria;enorme\n", content_type="text/csv")
    response = client_for(org.leader_a).post("/portfolio/import/", {"kind": "customers", "file": upload})
    assert response.status_code == 422
    assert "enorme" in response.text
    assert client_for(org.leader_a).post("/portfolio/import/", {"confirm": "1"}).status_code == 302
    assert not Customer.objects.exists()


def test_viewers_cannot_import(org, client_for):
    assert client_for(org.viewer_a).get("/portfolio/import/").status_code == 403


@pytest.mark.parametrize("kind", ["customers", "contacts", "subscriptions"])
def test_a_csm_imports_nothing(org, kind):
    # given one of the CSM's customers already in Leme
    CustomerFactory(owner=org.csm_a, external_id="c-1", name="Padaria Antiga")

    # when the CSM runs an import, even a preview, of any kind
    with pytest.raises(PermissionDenied):
        import_run(kind=kind, text=customers_csv(org), actor=org.csm_a)

    # then nothing changed
    assert Customer.objects.get(external_id="c-1").name == "Padaria Antiga"


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_import_page_answers_403_to_a_csm(org, client_for, method):
    response = getattr(client_for(org.csm_a), method)("/portfolio/import/")

    assert response.status_code == 403
    assert "Leme" in response.text


def test_an_ism_imports_the_customers_they_bring_in(org, client_for):
    text = CUSTOMERS.format(owner=org.csm_a.email)

    assert import_run(kind="customers", text=text, actor=org.ism_a).ok
    assert client_for(org.ism_a).get("/portfolio/import/").status_code == 200


def test_the_portfolio_offers_the_import_only_to_who_may_run_it(org, client_for):
    assert "/portfolio/import/" in client_for(org.leader_a).get("/portfolio/").text
    assert "/portfolio/import/" not in client_for(org.csm_a).get("/portfolio/").text


def test_a_leader_imports_customers_only_for_the_people_of_their_teams(org):
    text = CUSTOMERS.format(owner=org.csm_b.email)  # csm_b is in team B

    report = import_run(kind="customers", text=text, actor=org.leader_a)

    assert [r.action for r in report.rows] == ["error", "error"]
    assert org.csm_b.email in report.rows[0].errors[0]
    assert import_run(kind="customers", text=text, actor=org.admin).ok


def test_a_file_saved_by_excel_in_windows_1252_keeps_its_punctuation(org, client_for):
    client = client_for(org.leader_a)
    text = f"external_id;name;owner_email\nc-1;Padaria “Pão” – €;{org.csm_a.email}\n"
    upload = SimpleUploadedFile("clientes.csv", text.encode("cp1252"), content_type="text/csv")

    assert client.post("/portfolio/import/", {"kind": "customers", "file": upload}).status_code == 200
    assert client.post("/portfolio/import/", {"confirm": "1"}).status_code == 302

    assert Customer.objects.get().name == "Padaria “Pão” – €"


def test_a_file_that_is_not_text_is_refused_with_a_form_error(org, client_for):
    upload = SimpleUploadedFile("planilha.xlsx", b"PK\x03\x04\x81\x8d\x8f\x90\x9d", content_type="text/csv")

    response = client_for(org.leader_a).post("/portfolio/import/", {"kind": "customers", "file": upload})

    assert response.status_code == 422
    assert "file" in response.context["form"].errors


# --- What the preview finds before the commit would ------------------------------------------------------


def test_the_preview_refuses_cells_longer_than_what_is_stored(org):
    customers = f"external_id;name\nc-1;{'P' * 201}\n{'x' * 101};Padaria\n"
    contacts = f"external_id,customer_external_id,name,phone\nk-1,c-1,Ana,{'9' * 31}\n"
    subscriptions = f"external_id;customer_external_id;product;amount;start_date\ns-1;c-1;{'L' * 101};10;01/03/2025\n"

    report = import_run(kind="customers", text=customers, actor=org.leader_a)
    contact_errors = import_run(kind="contacts", text=contacts, actor=org.leader_a).rows[0].errors
    subscription_errors = import_run(kind="subscriptions", text=subscriptions, actor=org.leader_a).rows[0].errors

    assert [r.action for r in report.rows] == ["error", "error"]
    assert re.search(r"^name: .*\b200\b", report.rows[0].errors[0])
    assert "external_id" in report.rows[1].errors[0]
    assert any("phone" in e and "30" in e for e in contact_errors)
    assert any("product" in e and "100" in e for e in subscription_errors)


def test_a_cnpj_with_its_punctuation_is_not_too_long(org):
    text = f"external_id;name;cnpj;owner_email\nc-1;Padaria;11.222.333/0001-81;{org.csm_a.email}\n"

    assert import_run(kind="customers", text=text, actor=org.leader_a).ok


def test_an_unbalanced_quote_is_a_row_error_instead_of_swallowing_the_rest_of_the_file(org):
    text = f'external_id;name;owner_email\nc-1;"Padaria;{org.csm_a.email}\nc-2;Mercado;{org.csm_a.email}\n'

    report = import_run(kind="customers", text=text, actor=org.leader_a)

    assert not report.ok
    assert report.rows[0].line == 2
    # "Lines 2 to 3 were read as one row", in the reader's language.
    assert re.search(r"\b2\b.*\b3\b", report.rows[0].errors[0])
    assert not Customer.objects.exists()


def test_a_quote_left_open_in_a_large_file_is_reported_not_a_crash(org):
    # The merged cell outgrows the CSV reader's field limit (128 KB), which it reports as an error.
    rows = "".join(f"c-{n};Cliente {n};{org.csm_a.email}\n" for n in range(4000))
    text = f'external_id;name;owner_email\nc-x;"Aberta;{org.csm_a.email}\n{rows}'

    report = import_run(kind="customers", text=text, actor=org.leader_a)

    assert not report.ok
    assert "2" in " ".join(report.errors + [e for r in report.rows for e in r.errors])


def test_cells_beyond_the_header_are_reported(org):
    text = f"external_id;name;owner_email\nc-1;Padaria;{org.csm_a.email};extra;mais\nc-2;Mercado;{org.csm_a.email};\n"

    report = import_run(kind="customers", text=text, actor=org.leader_a)

    assert report.rows[0].action == "error"
    assert "extra" in report.rows[0].errors[0]
    # An empty trailing cell (a separator at the end of the line) is no extra cell.
    assert report.rows[1].action == "create"


def test_the_employee_import_reports_extra_cells_too(org):
    from surveys.employees import employee_import

    report = employee_import(text="email;name\nana@leme.example;Ana;RH\n", actor=org.admin)

    assert report.rows[0].action == "error"
    assert "RH" in report.rows[0].errors[0]
