"""The playbook emails' unsubscribe page (see ``playbooks.public_urls``). The token is the email's id signed
with the server's secret (``playbooks.emails.unsubscribe_token``): it names one email and cannot be guessed."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from playbooks import emails, mailing
from playbooks.models import StepEmail
from surveys.public_views import rate_limited


@csrf_exempt  # RFC 8058's one-click POST comes from the mail provider, without a cookie or a form token
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited(per_address=False)
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    email_id = emails.email_id_from_token(token)
    row = StepEmail.objects.filter(pk=email_id).first() if email_id is not None else None
    if row is None:
        state, language, address = "invalid", translation.get_language(), ""
    else:
        language, address = row.language, row.email
        if request.method == "POST":
            _row, already = mailing.email_opt_out(email_id=row.pk)
            state = "already" if already else "done"
        else:
            state = "already" if mailing.contact_opted_out(row.contact_id) else "confirm"
    context = {
        "state": state,
        "email": address,
        "action": reverse("playbook_public:unsubscribe", args=[token]),
    }
    with translation.override(language):
        response = render(request, "playbooks/public/unsubscribe.html", context, status=404 if row is None else 200)
    response.headers["Content-Language"] = language
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
