"""The surveys API: campaigns and their results, the answers, surveying one contact on an event (e.g. from
the support tool), and the bounces relays forward. Every viewset reads through surveys.selectors (the door)
and writes through a service."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from accounts.access import can_write
from accounts.api.base import ScopedReadOnlyViewSet
from accounts.api.permissions import TokenScopeAllows
from core import bounds
from portfolio.api.views import IdFilter, ServiceErrorsMixin, StableOrderingFilter
from surveys import bounces, scoring, selectors
from surveys.api import serializers as s
from surveys.campaign_counts import delivery_counts
from surveys.models import Campaign, CampaignMode, CampaignStatus, Response, SurveyKind, Trigger
from surveys.results import survey_results
from surveys.triggers import send_to_contact


class BoundedIsoDateTimeField(IsoDateTimeField):
    """A date and time in a query: within core.bounds' years and PostgreSQL's offsets, or a 400."""

    default_validators = [bounds.validate_date_in_range, bounds.validate_utc_offset]


class IsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


class CampaignFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=SurveyKind.choices)
    status = filters.ChoiceFilter(choices=CampaignStatus.choices)
    mode = filters.ChoiceFilter(choices=CampaignMode.choices)
    trigger = filters.ChoiceFilter(choices=Trigger.choices)

    class Meta:
        model = Campaign
        fields = ["kind", "status", "mode", "trigger"]


def _is_month_start(moment) -> bool:
    local = timezone.localtime(moment)
    return local.day == 1 and (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


class ResponseFilter(filters.FilterSet):
    campaign = IdFilter(field_name="campaign_id")
    customer = IdFilter(field_name="customer_id")
    team = IdFilter(
        field_name="delivery__team_id",
        help_text="eNPS: the team the person was in when surveyed (refused when it would show fewer than 5 answers).",
    )
    kind = filters.ChoiceFilter(
        choices=SurveyKind.choices,
        help_text="eNPS answers are listed only with kind=enps, never mixed with the others.",
    )
    answered_after = IsoDateTimeFilter(
        field_name="answered_at",
        lookup_expr="gte",
        help_text="Answered at or after (ISO 8601). eNPS: the start of a month only.",
    )
    answered_before = IsoDateTimeFilter(
        field_name="answered_at",
        lookup_expr="lt",
        help_text="Answered before (ISO 8601). eNPS: the start of a month only.",
    )

    class Meta:
        model = Response
        fields = ["campaign", "customer", "team", "kind", "answered_after", "answered_before"]

    def is_valid(self) -> bool:
        """eNPS is anonymous: nobody narrows its answers to less than a month (the CSV, too, gives the month)."""
        valid = super().is_valid()
        if valid and self.form.cleaned_data.get("kind") == SurveyKind.ENPS:
            for name in ("answered_after", "answered_before"):
                moment = self.form.cleaned_data.get(name)
                if moment is not None and not _is_month_start(moment):
                    self.form.add_error(
                        name,
                        _("eNPS answers are filtered by whole months only: give the first day of a month, at 00:00."),
                    )
            valid = self.form.is_valid()
        return valid


class AnonymousOrderingFilter(StableOrderingFilter):
    """``?ordering=``, but eNPS answers are never ordered by time: only by score, then by month and a stable
    random key (``selectors.ENPS_ORDER``), never by id, which follows the order they came in."""

    def get_ordering(self, request, queryset, view):
        if not view.lists_enps():
            return super().get_ordering(request, queryset, view)
        asked = [f.strip() for f in request.query_params.get(self.ordering_param, "").split(",") if f.strip()]
        if any(f.lstrip("-") != "score" for f in asked):
            raise exceptions.ValidationError(
                {"ordering": [_("eNPS answers are anonymous: they can be ordered by score only, never by time.")]}
            )
        rest = [f for f in selectors.ENPS_ORDER if f.lstrip("-") != "score"]
        return [*asked, *rest] if asked else list(selectors.ENPS_ORDER)


class CampaignViewSet(ServiceErrorsMixin, ScopedReadOnlyViewSet):
    """Survey campaigns. eNPS campaigns are listed to admins and leaders only."""

    serializer_class = s.SurveyCampaignSerializer
    filterset_class = CampaignFilter
    filter_backends = [filters.DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["created_at", "name"]

    def scoped_queryset(self, user):
        return selectors.campaigns_visible_to(user).order_by("-created_at", "-pk")

    @extend_schema(responses=s.SurveyCampaignResultsSerializer)
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """The score, its NPS zone, the counts and the response rate, over the answers the caller may see."""
        campaign = self.get_object()
        results = survey_results(request.user, selectors.Scope.of_campaign(campaign), detail=False)
        counts = delivery_counts(request.user, campaign)
        summary = results.summary
        nps = summary.nps
        data = {
            "campaign": campaign.pk,
            "kind": campaign.kind,
            "answers": summary.count,
            "score": summary.score,
            "zone": summary.zone,
            "average": summary.average,
            "share": summary.share,
            "hidden": summary.hidden,
            "response_rate": results.rate,
            "counts": {
                "planned": counts.planned,
                "sent": counts.sent,
                "skipped": counts.skipped,
                "answered": counts.answered,
                "promoters": nps.promoters if nps else None,
                "passives": nps.passives if nps else None,
                "detractors": nps.detractors if nps else None,
            },
        }
        return ApiResponse(s.SurveyCampaignResultsSerializer(data).data)

    @extend_schema(
        request=s.SurveySendSerializer,
        responses=s.SurveyDeliverySerializer,
        description=(
            "Survey one contact now through an active campaign sent by API call (trigger `api`). Answers the "
            "delivery: `pending` (the email leaves in a moment) or `skipped` with its reason (opted out, bounced, "
            "surveyed recently, no email). Calling again for the same contact answers the same delivery."
        ),
    )
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        campaign = self.get_object()
        serializer = s.SurveySendSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        if campaign.mode != CampaignMode.TRANSACTIONAL or campaign.trigger != Trigger.API:
            raise DjangoValidationError(_("Only a campaign sent by API call (trigger “api”) can survey one contact."))
        delivery = send_to_contact(campaign=campaign, contact=serializer.validated_data["contact"])
        return ApiResponse(s.SurveyDeliverySerializer(delivery).data, status=status.HTTP_200_OK)


class ResponseViewSet(ServiceErrorsMixin, ScopedReadOnlyViewSet):
    """Survey answers about the customers the caller may see. eNPS answers are listed only with `kind=enps`, only
    to admins and leaders, only from campaigns with at least 5 answers, and anonymously: no id, delivery,
    customer, contact or timestamp (the month alone, `answered_month`), ordered by score at most, filtered by whole
    months at most, and refused when the filters leave fewer than 5 answers."""

    serializer_class = s.SurveyResponseSerializer
    filterset_class = ResponseFilter
    filter_backends = [filters.DjangoFilterBackend, AnonymousOrderingFilter]
    ordering_fields = ["answered_at", "score"]

    def lists_enps(self) -> bool:
        return self.action == "list" and self.request.query_params.get("kind") == SurveyKind.ENPS

    def scoped_queryset(self, user):
        return selectors.responses_for_api(user, enps=self.lists_enps())

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.lists_enps():
            # Filters that leave a handful of answers (a small team, a quiet month) would point at people.
            answers = queryset.count()
            if 0 < answers < scoring.ENPS_MIN_ANSWERS:
                raise exceptions.ValidationError(
                    {
                        "detail": _(
                            "eNPS is anonymous: these filters leave fewer than %(min)s answers, so none are shown."
                        )
                        % {"min": scoring.ENPS_MIN_ANSWERS}
                    }
                )
        return queryset


class RawMessageParser(BaseParser):
    """The body as it came: an email is read by surveys.bounces, never as JSON or form data."""

    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return stream.read()


class AdminsOnly(permissions.BasePermission):
    """Admins who may write: what this permits reaches any customer's contacts."""

    def has_permission(self, request, view) -> bool:
        return can_write(request.user) and request.user.is_admin


class SurveyBounceView(APIView):
    """Late bounces forwarded by a relay or an email service. Admins only: a bounce stops a contact's surveys.
    No queryset to scope: the DSN names its delivery and must name that delivery's address too."""

    permission_classes = [permissions.IsAuthenticated, TokenScopeAllows, AdminsOnly]
    parser_classes = [RawMessageParser]

    @extend_schema(
        request={"message/rfc822": OpenApiTypes.BINARY},
        responses=s.SurveyBounceOutcomeSerializer,
        description=(
            "Record one delivery status notification (RFC 3464) about a survey email, sent as the raw message. A "
            "permanent failure (5.x.x) marks the delivery bounced and its contact never surveyed again; delays and "
            "DSNs whose recipient is not the delivery's address change nothing. Sending the same DSN again changes "
            "nothing. Answers 400 when the body is not a DSN."
        ),
    )
    def post(self, request):
        reports = bounces.parse_dsn(request.data) if isinstance(request.data, bytes) else []
        if not reports:
            raise exceptions.ParseError(_("The body is not a delivery status notification (RFC 3464)."))
        outcome = bounces.apply_bounces(reports)
        return ApiResponse(s.SurveyBounceOutcomeSerializer(outcome).data)
