import os
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from clinicflow.accounts.models import Role
from clinicflow.demo.clinic import BRANCHES, STAFF, demo_password
from clinicflow.demo.load import DemoRefused, clinic_language, demo_load, demo_summary


class Command(BaseCommand):
    help = "Load the demo clinic (two branches, doctors, staff, 90 days of patients) into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="Random seed: the same seed gives the same clinic.")

    def handle(self, *args, seed=7, **options):
        started = time.monotonic()
        # Whoever loads the demo reads about it in the clinic's language (a refusal: the clinic already there).
        with translation.override(clinic_language()):
            try:
                now = demo_load(seed=seed)
            except DemoRefused as refusal:
                raise CommandError(str(refusal)) from None
        with translation.override(clinic_language()):
            rows = demo_summary(now)
            width = max(len(label) for label, _value in rows)
            self.stdout.write(_("Demo clinic loaded in %(seconds)s s (seed %(seed)s):") % {
                "seconds": f"{time.monotonic() - started:.1f}", "seed": seed})
            for label, value in rows:
                self.stdout.write(f"  {label.ljust(width)}  {value}")
            self.stdout.write(self.style.SUCCESS("\n".join(login_lines())))


def login_lines() -> list[str]:
    """Where to log in, then every demo user with password, role and branches."""
    # The same defaults `clinicflow run` uses for its address.
    url = f"http://{os.getenv('CLINICFLOW_HOST', '127.0.0.1')}:{os.getenv('CLINICFLOW_PORT', '8000')}/"
    lines = [_("Log in at %(url)s as:") % {"url": url}]
    for username, _first, _last, role, branch_indexes in STAFF:
        # Branch names hold commas («Москва, Тверская»): a dot keeps two of them apart.
        what = " · ".join([str(Role(role).label)] + [BRANCHES[i][0] for i in branch_indexes])
        lines.append(f"  {username} / {demo_password(username)}  ({what})")
    return lines
