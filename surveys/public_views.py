"""The pages a survey email links to. The people who open them never log in: a customer's contact (NPS, CSAT,
CES, CHI) or an employee (eNPS).

* A GET never records anything: mail security scanners open every link in a message. The answer page shows
  the clicked score already chosen; the person confirms with one tap, which POSTs.
* The pages are plain HTML forms (no JavaScript), in the delivery's language, set no cookies and are never
  cached: the address carries the token. The answer page links to the other language (``?lang=en``): the
  choice travels in the address, through the form and to the thanks page, never in a cookie.
* Each client address and each link may ask for so many pages a minute (``LEME_SURVEY_PUBLIC_RATES``); past
  that the answer is 429 with a page in the visitor's language, before the token is even looked up.
* POSTs are CSRF-exempt. The unguessable token in the address is what authorises them, so a forged
  cross-site request would need the token itself; and the one-click unsubscribe POST that mail clients send
  (RFC 8058) carries no cookie at all.

The rules live in :mod:`surveys.answers`; these views only translate between HTTP and those services.
"""

import functools
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core import ratelimit
from core.clientip import client_address
from surveys import answers, scoring
from surveys.models import Delivery, SurveyKind


def _chosen_language(request: HttpRequest) -> str | None:
    """The language the person chose on the page (``?lang=``), if it is one Leme speaks."""
    code = request.GET.get("lang", "")
    return code if code in dict(settings.LANGUAGES) else None


def _language(delivery: Delivery | None, request: HttpRequest) -> str:
    if chosen := _chosen_language(request):
        return chosen
    if delivery is None:
        # Nothing tells us who this is: the browser's language (LocaleMiddleware) it is.
        return getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    try:
        return translation.get_supported_language_variant(delivery.language)
    except LookupError:
        return settings.LANGUAGE_CODE


def _render(request: HttpRequest, template: str, context: dict, *, language: str, status: int = 200) -> HttpResponse:
    with translation.override(language):
        response = render(request, template, context, status=status)
    response.headers["Content-Language"] = language
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _link_error_page(request: HttpRequest, error: answers.LinkError) -> HttpResponse:
    delivery = error.delivery
    reason = {answers.LinkUnknown: "unknown", answers.LinkExpired: "expired", answers.CampaignClosed: "closed"}[
        type(error)
    ]
    context = {
        "reason": reason,
        "answered": delivery is not None and answers.response_of(delivery) is not None,
    }
    return _render(
        request,
        "surveys/public/link_invalid.html",
        context,
        language=_language(delivery, request),
        status=error.status_code,
    )


def _too_many(request: HttpRequest, verdict: ratelimit.Verdict) -> HttpResponse:
    # Who is asking is not looked up under a flood: the language the page was asked in, or the browser's.
    language = _chosen_language(request) or getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
    response = _render(
        request, "surveys/public/too_many.html", {"minutes": verdict.retry_after_minutes}, language=language, status=429
    )
    response["Retry-After"] = str(verdict.retry_after)
    return response


def rate_limited(*, per_address: bool = True) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Count the request against its client address (unless ``per_address`` is False) and its link; over
    either rate, answer 429."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def limited(request: HttpRequest, token: str) -> HttpResponse:
            rates = settings.LEME_SURVEY_PUBLIC_RATES
            counts = [("token", token)]
            if per_address:
                counts.insert(0, ("address", client_address(request)))
            for kind, ident in counts:
                verdict = ratelimit.hit(f"survey-{kind}", ident, rates[kind])
                if not verdict.allowed:
                    return _too_many(request, verdict)
            return view(request, token)

        return limited

    return decorate


# --- Answering --------------------------------------------------------------------------------------------


def _with_language(url: str, request: HttpRequest) -> str:
    """``url`` keeping the language chosen on the page, if any."""
    chosen = _chosen_language(request)
    return f"{url}?{urlencode({'lang': chosen})}" if chosen else url


def _other_language(language: str) -> tuple[str, str]:
    """The other language's code and its name in itself."""
    code = next(code for code, _name in settings.LANGUAGES if code != language)
    return code, translation.get_language_info(code)["name_local"]


def _other_language_url(url: str, language: str, selected: int | None) -> str:
    """The link to the page in the other language: the same token, and the score already chosen."""
    query = {"lang": _other_language(language)[0], **({"score": selected} if selected is not None else {})}
    return f"{url}?{urlencode(query)}"


def _prefill(raw: str | None, scale: answers.Scale) -> int | None:
    """The score a link or a refused form chose, if it is one of the scale's; a bad one chooses nothing."""
    try:
        return answers.score_parse(raw, scale)
    except ValidationError:
        return None


@dataclass(frozen=True)
class _Shared:
    """What the answer page shows alike to every contact asked the same question in the same language, with the
    same score chosen and in the same state (already answered or not, a first name to greet, a link to opt out)."""

    language: str
    kind: str
    question: str
    scale: answers.Scale
    selected: int | None
    criteria: tuple[tuple[int, str, str], ...]  # CHI: each criterion's position, text and "yes", "no" or ""
    answered: bool
    greets: bool
    opts_out: bool


# The page's own text for each contact (``{{ first_name }}``, ``{{ comment }}``, ``{{ action }}``,
# ``{{ other_language.url }}``, ``{{ unsubscribe_url }}``): rendered with a mark in its place once per ``_Shared``,
# then each mark is replaced by the contact's text, escaped as the template would have escaped it. The mark holds
# nothing the template's escaping changes, and a per-process nonce no question or name can know.
_PER_CONTACT = ("first_name", "comment", "action", "other_language_url", "unsubscribe_url")
_MARK = f"\ue000{secrets.token_hex(8)}:"
_MARKED = re.compile(re.escape(_MARK) + r"(\w+)\ue001")


def _answer_html(shared: _Shared, texts: dict[str, str], *, errors: dict | None = None, request=None) -> str:
    with translation.override(shared.language):
        low, high = scoring.scale_labels(shared.kind)
        code, name = _other_language(shared.language)
        values = shared.scale.values
        context = {
            "is_chi": shared.kind == SurveyKind.CHI,
            "is_enps": shared.kind == SurveyKind.ENPS,
            "question": shared.question,
            "values": values,
            # Up to 7 choices fit a phone's row at a comfortable size; longer scales take two rows.
            "phone_columns": len(values) if len(values) <= 7 else (len(values) + 1) // 2,
            "anchor_low": low,
            "anchor_high": high,
            "selected": shared.selected,
            "comment": texts["comment"],
            "comment_max": answers.COMMENT_MAX_LENGTH,
            "criteria": [{"position": p, "text": text, "selected": chosen} for p, text, chosen in shared.criteria],
            "errors": errors or {},
            "existing": shared.answered,
            "first_name": texts["first_name"] if shared.greets else "",
            "action": texts["action"],
            "other_language": {"code": code, "name": name, "url": texts["other_language_url"]},
            "unsubscribe_url": texts["unsubscribe_url"] if shared.opts_out else "",
        }
        return render_to_string("surveys/public/answer.html", context, request)


@functools.lru_cache(maxsize=1024)
def _answer_skeleton(shared: _Shared) -> tuple[str, ...]:
    """The page for ``shared``, split around the marks: its own text and the contact's, in turns."""
    parts = tuple(_MARKED.split(_answer_html(shared, {name: f"{_MARK}{name}\ue001" for name in _PER_CONTACT})))
    expected = {"comment", "action", "other_language_url"}
    expected |= {name for name, shown in (("first_name", shared.greets), ("unsubscribe_url", shared.opts_out)) if shown}
    if set(parts[1::2]) != expected:
        # A value the template filters or moves would be put back wrong: the page must be rendered whole.
        raise RuntimeError(f"the answer page shows {sorted(set(parts[1::2]))} of the contact's text, not {expected}")
    return parts


def _answer_page(
    request: HttpRequest,
    delivery: Delivery,
    *,
    selected: int | None,
    comment: str,
    chi_selected: dict[str, str],
    errors: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    language = _language(delivery, request)
    campaign = delivery.campaign
    criteria = ()
    if campaign.kind == SurveyKind.CHI:
        criteria = tuple(
            (c.position, c.text_en if language.startswith("en") else c.text_pt, chi_selected.get(str(c.position), ""))
            for c in answers.chi_criteria()
        )
    token = request.resolver_match.kwargs["token"]
    page_url = reverse("survey_public:answer", args=[token])
    texts = {
        "first_name": delivery.contact.name.split(" ")[0] if delivery.contact and delivery.contact.name else "",
        "comment": comment,
        "action": _with_language(page_url, request),
        "other_language_url": _other_language_url(page_url, language, selected),
        "unsubscribe_url": reverse("survey_public:unsubscribe", args=[token]) if delivery.contact_id else "",
    }
    shared = _Shared(
        language=language,
        kind=campaign.kind,
        question=campaign.question(language),
        scale=answers.scale_for(campaign),
        selected=selected,
        criteria=criteria,
        answered=answers.response_of(delivery) is not None,
        greets=bool(texts["first_name"]),
        opts_out=bool(texts["unsubscribe_url"]),
    )
    if errors or settings.DEBUG:  # a refused answer's page; a template being edited
        html = _answer_html(shared, texts, errors=errors, request=request)
    else:
        parts = _answer_skeleton(shared)
        html = "".join(part if i % 2 == 0 else conditional_escape(texts[part]) for i, part in enumerate(parts))
    response = HttpResponse(html, status=status)
    response.headers["Content-Language"] = language
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited()
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the question (``?score=N`` chooses N, else a previous answer's score); POST records."""
    if request.method == "POST":
        return _answer_post(request, token)
    try:
        delivery = answers.delivery_from_token(token, page=True)
    except answers.LinkError as error:
        return _link_error_page(request, error)
    existing = answers.response_of(delivery)
    selected = _prefill(request.GET.get("score"), answers.scale_for(delivery.campaign))
    if selected is None and existing is not None:
        selected = existing.score
    chi_selected = {k: "yes" if v else "no" for k, v in existing.chi_answers.items()} if existing is not None else {}
    return _answer_page(
        request,
        delivery,
        selected=selected,
        comment=existing.comment if existing is not None else "",
        chi_selected=chi_selected,
    )


def _answer_post(request: HttpRequest, token: str) -> HttpResponse:
    raw_score = request.POST.get("score")
    comment = request.POST.get("comment", "")
    # What the form said of each CHI criterion (``chi-<position>``): a CHI survey reads its criteria's, others none.
    chi_selected = {key.removeprefix("chi-"): value for key, value in request.POST.items() if key.startswith("chi-")}
    try:
        # The delivery is read once, locked. Validation messages speak the contact's language, whatever the
        # browser's.
        answers.answer_record(
            token=token,
            score=raw_score,
            comment=comment,
            chi_answers=chi_selected,
            speak=lambda delivery: _language(delivery, request),
        )
    except answers.LinkError as error:
        return _link_error_page(request, error)
    except ValidationError as error:
        try:
            delivery = answers.delivery_from_token(token, page=True)
        except answers.LinkError as link_error:
            return _link_error_page(request, link_error)
        return _answer_page(
            request,
            delivery,
            selected=_prefill(raw_score, answers.scale_for(delivery.campaign)),
            comment=comment,
            chi_selected=chi_selected,
            errors=error.message_dict,
            status=422,
        )
    # Post/redirect/get: a refresh or the back button on the phone never sends the answer twice.
    see_other = HttpResponseRedirect(_with_language(reverse("survey_public:thanks", args=[token]), request))
    see_other.status_code = 303
    return see_other


@never_cache
@require_http_methods(["GET", "HEAD"])
@rate_limited()
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    try:
        delivery = answers.delivery_from_token(token, page=True)
    except answers.LinkError as error:
        return _link_error_page(request, error)
    response = answers.response_of(delivery)
    if response is None:
        return redirect(_with_language(reverse("survey_public:answer", args=[token]), request))
    campaign = delivery.campaign
    context = {
        "response": response,
        "campaign": campaign,
        "is_chi": campaign.kind == SurveyKind.CHI,
        "is_enps": campaign.kind == SurveyKind.ENPS,
        "scale_top": len(response.chi_answers) if campaign.kind == SurveyKind.CHI else campaign.scale_top,
        "detractor": campaign.kind != SurveyKind.ENPS
        and answers.category_of(response.kind, response.score, campaign.scale_top) == "detractor",
        "first_name": delivery.contact.name.split(" ")[0] if delivery.contact and delivery.contact.name else "",
        "change_url": _with_language(reverse("survey_public:answer", args=[token]), request),
        "unsubscribe_url": reverse("survey_public:unsubscribe", args=[token]) if delivery.contact_id else "",
    }
    return _render(request, "surveys/public/thanks.html", context, language=_language(delivery, request))


# --- Opting out -------------------------------------------------------------------------------------------


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
# Per link only: one-click unsubscribes (RFC 8058) come from the mail providers' few servers, for everyone.
@rate_limited(per_address=False)
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for confirmation; POST (the page's button, or a mail client's RFC 8058 one-click request)
    opts the contact out of every survey. Works on old emails too: expiry and closing do not apply."""
    try:
        delivery = answers.delivery_from_token(token, check_open=False)
    except answers.LinkError as error:
        return _link_error_page(request, error)
    language = _language(delivery, request)
    if delivery.contact_id is None:
        state = "not_applicable"
    elif request.method == "POST":
        answers.unsubscribe(delivery=delivery)
        state = "done"
    else:
        state = "already" if delivery.contact.opted_out_at else "confirm"
    context = {
        "state": state,
        "email": delivery.email,
        "action": reverse("survey_public:unsubscribe", args=[token]),
    }
    return _render(request, "surveys/public/unsubscribe.html", context, language=language)
