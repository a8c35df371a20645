"""The playbooks API: the playbooks a person reads (company-wide ones and their teams') and the runs on the
customers they see (the door), read-only."""

from django_filters import rest_framework as filters

from accounts.api.base import ScopedReadOnlyViewSet
from playbooks import selectors
from playbooks.api import serializers as s
from playbooks.models import Playbook, PlaybookStatus, Run, RunStatus, TriggerKind
from portfolio.api.views import IdFilter, StableOrderingFilter


class PlaybookFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=PlaybookStatus.choices)
    trigger_kind = filters.ChoiceFilter(field_name="live_version__trigger_kind", choices=TriggerKind.choices)
    team = IdFilter(field_name="team_id")

    class Meta:
        model = Playbook
        fields = ["status", "trigger_kind", "team"]


class PlaybookViewSet(ScopedReadOnlyViewSet):
    """Playbooks: the company-wide ones and those of the caller's teams, each with its live version."""

    serializer_class = s.PlaybookSerializer
    filterset_class = PlaybookFilter
    filter_backends = [filters.DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "pk"]

    def scoped_queryset(self, user):
        return selectors.playbooks_visible_to(user).select_related("live_version")


class RunFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id", help_text="The runs of one customer (the customer page's list).")
    playbook = IdFilter(field_name="playbook_id")
    status = filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = Run
        fields = ["customer", "playbook", "status"]


class RunViewSet(ScopedReadOnlyViewSet):
    """Playbook runs on the customers the caller may see, newest first; `?customer=` for one customer's."""

    serializer_class = s.RunSerializer
    filterset_class = RunFilter
    filter_backends = [filters.DjangoFilterBackend, StableOrderingFilter]
    ordering_fields = ["started_at", "next_due_at"]
    ordering = ["-started_at", "-pk"]

    def scoped_queryset(self, user):
        return selectors.runs_visible_to(user).select_related("playbook", "version")
