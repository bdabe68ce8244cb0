from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "clinicflow.channels"
    verbose_name = _("Channels")

    def ready(self):
        from . import (
            email,  # noqa: F401  registers the mailbox poll job
            sending,  # noqa: F401  registers the outbound message job handler
        )
