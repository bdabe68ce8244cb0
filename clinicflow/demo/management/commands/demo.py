import os
import time

from django.core.management.base import BaseCommand, CommandError

from clinicflow.demo.clinic import demo_password
from clinicflow.demo.load import DemoRefused, demo_load, demo_summary


class Command(BaseCommand):
    help = "Load the demo clinic (two branches, doctors, staff, 90 days of patients) into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="Random seed: the same seed gives the same clinic.")

    def handle(self, *args, seed=7, **options):
        started = time.monotonic()
        try:
            now = demo_load(seed=seed)
        except DemoRefused as refusal:
            raise CommandError(str(refusal)) from None
        rows = demo_summary(now)
        width = max(len(label) for label, _value in rows)
        self.stdout.write(f"Demo clinic loaded in {time.monotonic() - started:.1f} s (seed {seed}):")
        for label, value in rows:
            self.stdout.write(f"  {label.ljust(width)}  {value}")
        self.stdout.write(self.style.SUCCESS(login_line()))


def login_line() -> str:
    # The same defaults `clinicflow run` uses for its address.
    url = f"http://{os.getenv('CLINICFLOW_HOST', '127.0.0.1')}:{os.getenv('CLINICFLOW_PORT', '8000')}/"
    return (f"Log in at {url} as reception / {demo_password('reception')} (receptionist, Moscow) or admin / "
            f"{demo_password('admin')} (clinic admin). Also: reception-nsk / {demo_password('reception-nsk')} "
            f"(receptionist, Novosibirsk), manager / {demo_password('manager')} (front-office manager), "
            f"marketing / {demo_password('marketing')} (marketer), compliance / {demo_password('compliance')} "
            f"(compliance officer).")
