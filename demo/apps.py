from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for every app, and the ``seed_demo`` command that writes it."""

    name = "demo"
