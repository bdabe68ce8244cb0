from datetime import timedelta

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

import clinicflow

from .models import Job, WorkerHeartbeat
from .supervisor import embedded_status


@never_cache
def healthz(request):
    """200 when the database answers; says whether any worker is alive and how the job queue looks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        now = timezone.now()
        alive = WorkerHeartbeat.objects.filter(last_seen_at__gte=now - timedelta(seconds=60)).count()
        overdue = Job.objects.filter(state=Job.State.PENDING, due_at__lt=now - timedelta(minutes=5)).count()
        failed = Job.objects.filter(state=Job.State.FAILED).count()
    except Exception as exc:
        return JsonResponse({"status": "error", "database": "unreachable", "error": type(exc).__name__},
                            status=503)
    return JsonResponse({
        "status": "ok",
        "version": clinicflow.__version__,
        "database": {"status": "ok", "vendor": connection.vendor},
        "worker": {"status": "ok" if alive else "down", "alive": alive, "overdue_jobs": overdue,
                   "failed_jobs": failed,
                   # `clinicflow run` also says how often its own worker had to be restarted.
                   **(embedded_status() or {})},
    })

