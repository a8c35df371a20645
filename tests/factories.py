"""Factories for the people who use Leme. Apps' own factories live beside their tests."""

import factory

from accounts.models import Role, Team, User


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Time {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"pessoa{n}@empresa.com.br")
    full_name = factory.Faker("name", locale="pt_BR")
    role = Role.CSM
    language = "pt-br"
    password = factory.PostGenerationMethodCall("set_password", "senha-de-teste-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class LeaderFactory(UserFactory):
    role = Role.LEADER

    @factory.post_generation
    def lead(obj, create, extracted, **kwargs):
        if create and obj.team_id:
            Team.objects.filter(pk=obj.team_id).update(leader=obj)
