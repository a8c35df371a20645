"""The forms of the Settings page of teams and people (the rules are the services', accounts.people_services)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, Team, User


class TeamCreateForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=100)


class TeamForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.all(), widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=100)
    # Whom the team may have as leader is the service's rule (accounts.access.can_lead_team), said in its words.
    leader = forms.ModelChoiceField(label=_("Leader"), queryset=User.objects.all(), required=False)


class PersonForm(forms.Form):
    person = forms.ModelChoiceField(queryset=User.objects.all(), widget=forms.HiddenInput)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)


class PersonActiveForm(forms.Form):
    person = forms.ModelChoiceField(queryset=User.objects.all(), widget=forms.HiddenInput)
    active = forms.BooleanField(required=False, widget=forms.HiddenInput)
