from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from clinicflow.urls import urlpatterns as clinicflow_urls

BARE_TABLE = "bench_bare_insert"


@csrf_exempt
def bare_insert(request):
    """The floor: the whole middleware stack and one INSERT, nothing else."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {BARE_TABLE} (body) VALUES (%s)", [request.body[:200].decode(errors="replace")])
    return HttpResponse(status=201)


urlpatterns = [path("bench/bare", bare_insert), *clinicflow_urls]
