"""The surveys API: campaigns and their results, the answers, surveying one contact on an event (e.g. from
the support tool), and the bounces relays forward. Every viewset reads through surveys.selectors (the door)
and writes through a service."""

from django.core.exceptions import ValidationError as DjangoValidationError
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
from surveys import bounces, selectors
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


class ResponseFilter(filters.FilterSet):
    campaign = IdFilter(field_name="campaign_id")
    customer = IdFilter(field_name="customer_id")
    kind = filters.ChoiceFilter(choices=SurveyKind.choices)
    answered_after = IsoDateTimeFilter(
        field_name="answered_at", lookup_expr="gte", help_text="Answered at or after (ISO 8601)."
    )
    answered_before = IsoDateTimeFilter(
        field_name="answered_at", lookup_expr="lt", help_text="Answered before (ISO 8601)."
    )

    class Meta:
        model = Response
        fields = ["campaign", "customer", "kind", "answered_after", "answered_before"]


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
    """Survey answers about the customers the caller may see. eNPS answers only for admins and leaders, only
    from campaigns with at least 5 answers, and without delivery, customer or contact."""

    serializer_class = s.SurveyResponseSerializer
    filterset_class = ResponseFilter
    filter_backends = [filters.DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["answered_at", "score"]

    def scoped_queryset(self, user):
        return selectors.responses_for_api(user)


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
