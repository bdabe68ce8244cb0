"""Code the benchmark scripts share (not itself a benchmark: .ci/run runs benchmarks/*.py only)."""

import os


def database_description() -> str:
    """The database and machine a benchmark ran on, for its table's heading."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    return f"{connection.vendor} {version.split(' on ')[0]}, {os.cpu_count()} CPUs"
