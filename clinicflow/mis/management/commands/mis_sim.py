import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from clinicflow.clinic.models import Doctor
from clinicflow.mis.simulator import Simulator


class Command(BaseCommand):
    help = "Run the demo MIS: a small FHIR R4 server with doctors, schedules and slots (a demo tool)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8090)
        parser.add_argument("--webhook", default="", help="clinicflow's /hooks/mis/fhir address to notify")
        parser.add_argument("--close-every", type=float, default=60.0,
                            help="seconds between rounds that give ended visits their outcome")
        parser.add_argument("--days", type=int, default=14, help="days of free slots to offer")

    def handle(self, *args, host, port, webhook, close_every, days, **options):
        simulator = Simulator(webhook_url=webhook, webhook_token=settings.CLINICFLOW_MIS_WEBHOOK_TOKEN,
                              token=settings.CLINICFLOW_MIS_TOKEN)
        # The clinic's own doctors, when it has some, so the first sync links them by name.
        doctors = [(doctor.full_name, [branch.name for branch in doctor.branches.all()])
                   for doctor in Doctor.objects.filter(active=True).prefetch_related("branches")]
        simulator.populate(doctors, days=days)
        try:
            server = simulator.server(host, port)
        except OSError as exc:
            raise CommandError(f"The demo MIS cannot listen on {host}:{port}: {exc.strerror}. "
                               "Is the port busy? Choose another with --port.") from None
        stopping = threading.Event()
        threading.Thread(target=simulator.run_clock, args=(stopping, close_every), daemon=True).start()
        self.stdout.write(f"demo MIS (FHIR R4) on http://{host}:{port}/fhir  "
                          f"({len(doctors) or 4} practitioners; webhook: {webhook or 'off'})", ending="\n")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            stopping.set()
            server.server_close()
