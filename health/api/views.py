"""The usage-events API: product and billing systems post batches of events."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken, TokenScope
from health import usage
from health.ingest import UsageBatchIn

IngestAnswer = inline_serializer(
    "UsageEventsIngested",
    {
        "received": serializers.IntegerField(),
        "created": serializers.IntegerField(help_text=_("Events stored now.")),
        "duplicates": serializers.IntegerField(
            help_text=_("Events already stored (the same event_id): left as they were.")
        ),
    },
)
IngestErrors = inline_serializer(
    "UsageEventsErrors",
    {
        "errors": serializers.DictField(
            help_text=_('By the event\'s position in the batch: {"3": {"timestamp": ["…"]}}; or {"events": [...]}.')
        )
    },
)


class UsageEventsView(APIView):
    """``POST /api/v1/usage-events/``: the only endpoint an integration token reaches."""

    token_scope = TokenScope.USAGE_EVENTS

    @extend_schema(
        operation_id="usage_events_create",
        summary=_("Send product-usage events"),
        description=_(
            "Up to 1,000 events per call. All are stored or none: one bad event answers 400 naming its position "
            "and fields, and stores nothing. Sending a batch again stores each event once (by event_id): the answer "
            "counts what was new and what was a duplicate (201 when something was new, 200 otherwise). A person's "
            "token sends events for the customers that person sees; an integration token (made by an admin on the "
            "Integrations page) for every customer, and may call nothing else."
        ),
        request=UsageBatchIn,
        responses={
            201: IngestAnswer,
            200: IngestAnswer,
            400: OpenApiResponse(IngestErrors, description=_("Nothing stored.")),
            403: OpenApiResponse(description=_("A read-only person's token.")),
        },
        examples=[
            OpenApiExample(
                "Two events",
                request_only=True,
                value={
                    "events": [
                        {
                            "event_id": "evt_01J9Z3",
                            "customer_external_id": "crm-4411",
                            "user_id": "u-193",
                            "event": "login",
                            "timestamp": "2026-12-01T14:03:00-03:00",
                        },
                        {
                            "event_id": "evt_01J9Z4",
                            "customer": 812,
                            "user_id": "u-193",
                            "event": "report_exported",
                            "timestamp": "2026-12-01T14:05:10-03:00",
                            "properties": {"format": "pdf", "pages": 12},
                        },
                    ]
                },
            ),
            OpenApiExample(
                "One bad event",
                response_only=True,
                status_codes=["400"],
                value={"errors": {"1": {"timestamp": ["Give the time zone offset (such as -03:00 or Z)."]}}},
            ),
        ],
    )
    def post(self, request):
        body = request.data
        events = body.get("events") if isinstance(body, dict) else None
        token = request.auth if isinstance(request.auth, ApiToken) else None
        try:
            result = usage.usage_events_ingest(
                events=events, actor=request.user, token_scope=token.scope if token else None
            )
        except usage.UsageBatchInvalid as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        answer = {"received": result.received, "created": result.created, "duplicates": result.duplicates}
        return Response(answer, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)
