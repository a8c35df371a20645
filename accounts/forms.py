import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import Role, Team


class EmailAuthenticationForm(auth_forms.AuthenticationForm):
    """Log in with an email address."""

    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        "invalid_login": _("That email and password do not match. Check both and try again."),
        "inactive": _("This account is deactivated. Ask your admin."),
    }


class QueuedPasswordResetForm(auth_forms.PasswordResetForm):
    """Queues the reset email, so the page answers at once; the worker makes the link (see
    accounts.services.password_reset_request), so it never travels through the broker."""

    def save(self, **kwargs) -> None:
        services.password_reset_request(email=self.cleaned_data["email"])


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    full_name = forms.CharField(label=_("Name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.CSM)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="pt-br")


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    password1 = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(zone, zone.replace("_", " ")) for zone in sorted(zoneinfo.available_timezones())]


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Name"), max_length=150)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(
        label=_("Time zone"), choices=_time_zone_choices, help_text=_("Where your day starts: dates and the digest.")
    )
    morning_digest = forms.BooleanField(
        label=_("Email me my day at 8:00"),
        required=False,
        help_text=_(
            "Overdue and today's tasks, renewals this month, customers that changed. "
            "Nothing when there is nothing to say."
        ),
    )


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on a form, field by field where it names the form's fields, so the
    page re-renders with the messages beside what the person typed."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("Which system will use it, so you can tell your tokens apart (e.g. “Billing sync”)."),
    )
