from django.core.management.base import BaseCommand, CommandError

from clinicflow.funnel.services import mis_is_connected
from clinicflow.mis.adapters.base import MisError
from clinicflow.mis.services import mis_reconcile


class Command(BaseCommand):
    help = "One reconciliation with the MIS (reference data, statuses, bookings it never got), then exit."

    def handle(self, *args, **options):
        if not mis_is_connected():
            raise CommandError("No MIS is connected: set CLINICFLOW_MIS_BASE_URL.")
        try:
            result = mis_reconcile()
        except MisError as exc:
            raise CommandError(f"The MIS did not answer: {exc}") from None
        self.stdout.write(result)
