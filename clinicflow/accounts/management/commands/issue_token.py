"""`clinicflow manage issue_token --user U --name N --scopes S [S ...] [--days D]`: a token for automation.

Only the key goes to stdout (so `KEY=$(clinicflow manage issue_token ...)` works); what was issued goes to
stderr. The key is not stored anywhere: lose it and you issue a new token.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow.accounts.models import ApiToken, TokenScope, is_staff_member


class Command(BaseCommand):
    help = "Issue an API token and print its key once."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username the token acts as (a member of staff)")
        parser.add_argument("--name", required=True, help="what the token is for, e.g. 'website'")
        parser.add_argument("--scopes", required=True, nargs="+", metavar="SCOPE",
                            help=f"space- or comma-separated, from: {' '.join(TokenScope.ALL)} (write implies read)")
        parser.add_argument("--days", type=int, help="expires after this many days (default: never)")

    def handle(self, *, user: str, name: str, scopes: list[str], days: int | None, **options):
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(_("No user “%(user)s”.") % {"user": user})
        if not is_staff_member(owner):
            # The API would refuse every call of such a token; better to say so now than at 3 a.m.
            raise CommandError(_("“%(user)s” is not an active member of staff.") % {"user": user})
        if days is not None and days < 1:
            raise CommandError(_("--days must be 1 or more (leave it out for a token that never expires)."))
        wanted = [scope for arg in scopes for scope in arg.split(",") if scope]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            token, key = ApiToken.issue(user=owner, name=name, scopes=wanted, expires_at=expires_at)
        except (ValueError, ValidationError) as error:
            raise CommandError(error) from error
        self.stderr.write(_("Issued token #%(id)s “%(name)s” for %(user)s, scopes %(scopes)s, expires %(expires)s.")
                          % {"id": token.pk, "name": token.name, "user": owner.username,
                             "scopes": " ".join(token.scopes),
                             "expires": token.expires_at.isoformat() if token.expires_at else _("never")})
        self.stdout.write(key)
