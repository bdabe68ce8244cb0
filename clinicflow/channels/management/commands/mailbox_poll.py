from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clinicflow.channels.email import configured, email_poll_plan, mailbox_poll


class Command(BaseCommand):
    help = "Read the clinic's mailbox now and plan its periodic poll (the job then plans itself)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Read the mailbox now; plan nothing.")

    def handle(self, *args, once=False, **options):
        if not configured():
            raise CommandError("Set CLINICFLOW_IMAP_HOST (and _USER, _PASSWORD) first.")
        self.stdout.write(f"read {mailbox_poll()} message(s)")
        if not once:
            email_poll_plan(after=timezone.now())
            self.stdout.write("the next poll is planned; a running worker keeps polling")
