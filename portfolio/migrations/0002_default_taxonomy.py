from django.db import migrations


def install(apps, schema_editor):
    from portfolio.taxonomy import CHURN_TAXONOMY, POLICIES

    Category = apps.get_model("portfolio", "ChurnCategory")
    Reason = apps.get_model("portfolio", "ChurnReason")
    Policy = apps.get_model("portfolio", "ServiceModelPolicy")
    for code, pt, en, reasons in CHURN_TAXONOMY:
        category, _ = Category.objects.get_or_create(code=code, defaults={"name_pt": pt, "name_en": en})
        for reason_code, reason_pt, reason_en, needs_detail in reasons:
            Reason.objects.get_or_create(
                code=reason_code,
                defaults={"category": category, "name_pt": reason_pt, "name_en": reason_en, "needs_detail": needs_detail},
            )
    for service_model, value_days, success_days, review_months, by_meeting, uti_days in POLICIES:
        Policy.objects.get_or_create(
            service_model=service_model,
            defaults={
                "first_value_days": value_days,
                "first_success_days": success_days,
                "review_every_months": review_months,
                "handoff_by_meeting": by_meeting,
                "uti_days": uti_days,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("portfolio", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
