from django.core.management.base import BaseCommand
from django.utils import timezone

from clinicflow.channels.models import UnreadDelivery


class Command(BaseCommand):
    help = "List signed deliveries clinicflow could not read (kept raw so nothing is lost); --show ID prints one."

    def add_arguments(self, parser):
        parser.add_argument("--show", type=int, help="print this delivery's raw body")
        parser.add_argument("--resolve", type=int, help="mark this delivery as dealt with")

    def handle(self, *args, show=None, resolve=None, **options):
        if show:
            delivery = UnreadDelivery.objects.get(pk=show)
            self.stdout.write(f"{delivery.channel} {delivery.received_at:%Y-%m-%d %H:%M:%S}\n{delivery.error}\n\n")
            self.stdout.write(delivery.body)
            return
        if resolve:
            UnreadDelivery.objects.filter(pk=resolve).update(resolved_at=timezone.now())
            return
        waiting = UnreadDelivery.objects.filter(resolved_at__isnull=True)
        self.stdout.write(f"{waiting.count()} unread deliveries")
        for delivery in waiting[:50]:
            first_line = delivery.error.splitlines()[0] if delivery.error else ""
            self.stdout.write(f"#{delivery.pk} {delivery.channel} {delivery.received_at:%Y-%m-%d %H:%M} {first_line}")
