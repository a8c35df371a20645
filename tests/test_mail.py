"""Development email: one .eml file per email, even when one connection sends many."""

from email import message_from_bytes, policy

from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection


def test_each_email_of_one_connection_is_its_own_eml_file(tmp_path):
    # given one connection, as the survey sender holds for a batch
    connection = get_connection("config.mail.EmlFileBackend", file_path=tmp_path)
    html = EmailMultiAlternatives("Pesquisa", "Olá, Ana", to=["ana@empresa.com.br"])
    html.attach_alternative("<p>Olá, Ana</p>", "text/html")
    plain = EmailMessage("Pesquisa", "Olá, Bia", to=["bia@empresa.com.br"])

    # when it sends two emails, one at a time and then together with a third
    connection.open()
    assert connection.send_messages([html]) == 1
    assert connection.send_messages([plain, EmailMessage("Lembrete", "Oi", to=["caio@empresa.com.br"])]) == 2
    connection.close()

    # then there are three files, in the order sent, each one whole email a mail client can read
    files = sorted(tmp_path.iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml", ".eml"]
    emails = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert [e["To"] for e in emails] == ["ana@empresa.com.br", "bia@empresa.com.br", "caio@empresa.com.br"]
    assert emails[0].get_body(("html",)).get_content().strip() == "<p>Olá, Ana</p>"
    assert emails[1].get_body(("plain",)).get_content().strip() == "Olá, Bia"


def test_sending_nothing_writes_nothing(tmp_path):
    connection = get_connection("config.mail.EmlFileBackend", file_path=tmp_path)
    assert connection.send_messages([]) == 0
    assert list(tmp_path.iterdir()) == []
