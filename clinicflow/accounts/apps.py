from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "clinicflow.accounts"
    verbose_name = _("Staff and access")

    def ready(self):
        checks.register(check_two_factor_roles, checks.Tags.security)


def check_two_factor_roles(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A misspelt role in CLINICFLOW_TWO_FACTOR_ROLES would silently leave that role without a second factor."""
    from .models import Role
    from .services import two_factor_required_roles

    unknown = sorted(two_factor_required_roles() - set(Role.values))
    if not unknown:
        return []
    return [checks.Error(
        f"CLINICFLOW_TWO_FACTOR_ROLES names unknown roles: {', '.join(unknown)}",
        hint=f"Use some of: {', '.join(Role.values)}", id="clinicflow.E001")]
