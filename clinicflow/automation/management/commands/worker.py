from django.core.management.base import BaseCommand

from clinicflow.automation.services import periodic_jobs_plan
from clinicflow.automation.worker import Worker, work_once


class Command(BaseCommand):
    help = "Run due background jobs. Any number of workers may run at once, on any machines."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run the jobs due now, then exit.")
        parser.add_argument("--poll", type=float, default=2.0, help="Seconds between polls when idle.")
        parser.add_argument("--name", help="Worker name shown in /healthz (default host:pid).")

    def handle(self, *args, once=False, poll=2.0, name=None, **options):
        worker = Worker(name=name, poll_seconds=poll)
        if once:
            periodic_jobs_plan()  # cron-style use gets the daily purge & co. too
            self.stdout.write(f"ran {work_once(worker.name, limit=100_000)} job(s)")
            return
        worker.install_signal_handlers()
        worker.run_forever()
