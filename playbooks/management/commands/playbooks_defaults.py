"""Install the default playbooks that are missing (the data migration does this once; run it again after
deleting one to get it back)."""

from django.core.management.base import BaseCommand

from core import clock
from playbooks.defaults import install_defaults
from playbooks.models import Playbook, PlaybookVersion


class Command(BaseCommand):
    help = "Install Leme's default playbooks where missing."

    def handle(self, *args, **options) -> None:
        created = install_defaults(Playbook, PlaybookVersion, clock.now())
        self.stdout.write(f"{created} default playbooks installed.")
