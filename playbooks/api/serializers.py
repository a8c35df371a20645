"""What the playbooks API answers: a playbook with its live version (trigger, audience, steps, exit goal), and
a run with where it stands. Read-only: playbooks are edited on their page, where the draft and publishing
keep runs under way safe."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from playbooks import steps as step_rules
from playbooks.models import Playbook, PlaybookVersion, Run


class PlaybookVersionSerializer(serializers.ModelSerializer):
    steps = serializers.JSONField(
        help_text='The ordered steps: {"kind": "task"|"wait"|"condition"|"email", ...} (see the playbook page).'
    )
    trigger_params = serializers.JSONField(help_text='The trigger\'s parameter: {"stage"}, {"band"} or {"days"}.')

    class Meta:
        model = PlaybookVersion
        fields = [
            "number",
            "trigger_kind",
            "trigger_params",
            "service_models",
            "segments",
            "stages",
            "plan_tiers",
            "mrr_min_cents",
            "mrr_max_cents",
            "steps",
            "exit_goal",
            "published_at",
        ]


class PlaybookSerializer(serializers.ModelSerializer):
    live_version = PlaybookVersionSerializer(read_only=True, help_text="The version new runs start with.")

    class Meta:
        model = Playbook
        fields = ["id", "key", "name", "description", "team", "status", "cooldown_days", "created_at", "live_version"]


class RunSerializer(serializers.ModelSerializer):
    playbook_name = serializers.CharField(source="playbook.name", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True, help_text="The version it runs.")
    next_step = serializers.SerializerMethodField(help_text="What the run does next, in words; empty once ended.")

    class Meta:
        model = Run
        fields = [
            "id",
            "playbook",
            "playbook_name",
            "version",
            "customer",
            "status",
            "started_at",
            "current_step",
            "next_step",
            "next_due_at",
            "paused_at",
            "ended_at",
            "exit_reason",
        ]

    @extend_schema_field(serializers.CharField())
    def get_next_step(self, run: Run) -> str:
        steps = run.version.steps
        if not run.is_open or run.current_step >= len(steps):
            return ""
        return str(step_rules.describe(steps[run.current_step]))
