"""core.csvfiles: what an uploaded CSV decodes to, and cells no spreadsheet runs as formulas."""

import csv
import io
import re

import pytest

from core.csvfiles import NotText, decode_csv, spreadsheet_safe
from tests.portfolio.factories import CustomerFactory
from tests.surveys.test_answers import make_campaign
from tests.surveys.test_results import answered

FORMULA_START = re.compile(r"""^[\s"]*[=+\-@＝＋－＠]""")

HOSTILE = [
    '=HYPERLINK("http://mal.example","clique")',
    "x;=1+1;",
    "ótimo, +55 11 99999-0000",
    'nota 10;"=cmd|/c calc!A1"',
    "tudo certo\n@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "-2+3",
    "x;  -1",
    "＝1+1",
]


def cells_a_spreadsheet_sees(text: str, separator: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text), delimiter=separator) for cell in row]


@pytest.mark.parametrize("value", HOSTILE)
def test_no_piece_of_a_cell_starts_a_formula_whatever_the_separator(value):
    safe = spreadsheet_safe(value)
    for separator in (",", ";", "\t"):
        for piece in re.split(r"[,;\t\r\n]", safe):
            assert not FORMULA_START.match(piece), (value, separator, piece)


@pytest.mark.parametrize("value", ["Atendimento excelente", "nota 10 - ótimo", "a@b.com", "", 9, None])
def test_ordinary_values_are_left_alone(value):
    assert spreadsheet_safe(value) == value


def test_reading_utf8_with_or_without_bom_and_windows_1252():
    assert decode_csv("ação".encode()) == "ação"
    assert decode_csv("\ufeffação".encode()) == "ação"
    assert decode_csv("“Pão” – €".encode("cp1252")) == "“Pão” – €"


@pytest.mark.parametrize("raw", [b"a\x00b", "nome".encode("utf-16"), b"\x81\x8d\x8f"])
def test_what_is_not_text_is_refused(raw):
    with pytest.raises(NotText):
        decode_csv(raw)


@pytest.mark.django_db
def test_the_survey_export_opened_with_semicolons_shows_no_formula(org, client_for):
    # Excel in Brazil splits at ";": every cell it would see, in every row, must be text.
    campaign = make_campaign(actor=org.admin)
    customer = CustomerFactory(owner=org.csm_a, name="=1+1;Padaria")
    for comment in HOSTILE:
        answered(campaign, customer, 9, comment=comment)

    response = client_for(org.admin).get(f"/surveys/{campaign.pk}/export.csv")
    text = b"".join(response.streaming_content).decode()

    for separator in (",", ";"):
        cells = cells_a_spreadsheet_sees(text, separator)
        assert [cell for cell in cells if FORMULA_START.match(cell)] == []
    assert "Padaria" in text
