from django.core.management.base import BaseCommand, CommandError

from clinicflow.compliance.models import AccessLogEntry
from clinicflow.compliance.services import access_log_verify


class Command(BaseCommand):
    help = "Check the access log's hash chain: finds rows that were edited, deleted or cut off the end."

    def handle(self, *args, **options):
        problems = access_log_verify()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"the access log was tampered with: {len(problems)} problem(s)")
        self.stdout.write(f"access log intact: {AccessLogEntry.objects.count()} rows")
