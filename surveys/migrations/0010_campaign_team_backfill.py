"""Existing campaigns belong to their creator's team: a leader's to the leader's own team (else the first team
they lead), so it stops reaching other teams' customers; an admin's, or one whose creator is gone or in no
team, stays company-wide (what every campaign was before)."""

from django.db import migrations


def backfill(apps, schema_editor):
    Campaign = apps.get_model("surveys", "Campaign")
    Team = apps.get_model("accounts", "Team")
    for campaign in Campaign.objects.filter(team__isnull=True, created_by__isnull=False).select_related("created_by"):
        creator = campaign.created_by
        if creator.is_superuser or creator.role == "admin":
            continue
        team_id = creator.team_id or Team.objects.filter(leader_id=creator.pk).order_by("pk").values_list(
            "pk", flat=True
        ).first()
        if team_id is not None:
            Campaign.objects.filter(pk=campaign.pk).update(team_id=team_id)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("surveys", "0009_campaign_team"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
