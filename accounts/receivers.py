"""Django signals accounts listens to; connected in AccountsConfig.ready()."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts import services
from accounts.models import User


@receiver(post_save, sender=User, dispatch_uid="accounts.revoke_tokens_on_new_password")
def revoke_tokens_on_new_password(sender, instance: User, created: bool, **kwargs) -> None:
    """A saved new password revokes the person's API tokens, whichever path set it (User.set_password marks it)."""
    if getattr(instance, "_password_was_set", False):
        instance._password_was_set = False
        if not created:
            services.api_tokens_revoke_all(user=instance)
