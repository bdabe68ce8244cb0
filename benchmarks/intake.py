"""Intake under load: the website form and the Telegram webhook, each request a new patient from a new address.

    .venv/bin/python benchmarks/intake.py [--tiny] [--connections 50] [--seconds 20] [--workers 4]
                                          [--database-url URL] [--keep] [--show-sql]

Creates its own database (as benchmarks/queue.py does), serves clinicflow with gunicorn (the documented
production server, docs/decisions/0004) and, for comparison, the web form under waitress (what the
embedded `clinicflow run` uses), and loads each with wrk (Debian's `wrk`) at the given number of
connections. Every request is a new patient: a new phone or Telegram chat, from a random client address
(sent as X-Forwarded-For by a trusted proxy, so the per-address rate limit never trips). In the same run,
a bare Django view that runs one INSERT through the same middleware is the floor.

Before the load, one in-process pass counts SQL queries and write transactions (commits) per request, after
one uncounted request: a process reads the clinic settings and the branch calendar once per
CLINICFLOW_CLINIC_CACHE_SECONDS (3 queries), not per request. --show-sql prints the SQL of the last one.

Prints requests/s, p50 and p99 per row and the ratio to the bare view. Exits 1 when a request failed,
when a row served nothing, or when the inquiries in the database differ from the requests answered.
--tiny (what CI runs): 2 connections for 1 second each, to keep the script working; numbers not judged.
"""

import argparse
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # as in queue.py: the project root first, so `benchmarks.support` imports

SIZES = {"full": {"connections": 50, "seconds": 20, "workers": 4, "probe": 51},
         "tiny": {"connections": 2, "seconds": 1, "workers": 2, "probe": 6}}
TELEGRAM_SECRET = "bench-telegram-secret"
GOALS = {"queries": 12, "commits": 1, "ratio": 1 / 3, "p99_ms": 250}


def queue_benchmark():
    """benchmarks/queue.py, for its database helpers (create and drop a database of the run's own)."""
    spec = importlib.util.spec_from_file_location("queue_benchmark", ROOT / "benchmarks" / "queue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(default_url: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="the CI size: a second per row, numbers not judged")
    parser.add_argument("--connections", type=int)
    parser.add_argument("--seconds", type=int)
    parser.add_argument("--workers", type=int, help="gunicorn worker processes (default 4; 1 on SQLite)")
    parser.add_argument("--database-url", default=os.getenv("DATABASE_URL", default_url),
                        help="PostgreSQL URL, or sqlite:// for SQLite in a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--show-sql", action="store_true",
                        help="print the SQL of the probe's last request per row (the steady state), with timings")
    args = parser.parse_args()
    size = SIZES["tiny" if args.tiny else "full"]
    for name in ("connections", "seconds", "workers"):
        if getattr(args, name) is None:
            setattr(args, name, size[name])
    args.probe = size["probe"]
    return args


# --- the clinic and what one request costs ----------------------------------------------------------

def seed() -> None:
    from django.db import connection

    from benchmarks.support.intake_urls import BARE_TABLE
    from clinicflow.clinic.models import Branch, ClinicSettings, WorkingHours

    branch = Branch.objects.create(name="Moscow", time_zone="Europe/Moscow", address="Tverskaya 1")
    WorkingHours.objects.bulk_create(
        [WorkingHours(branch=branch, weekday=day, opens="00:00", closes="23:59") for day in range(7)])
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": branch})
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {BARE_TABLE} (body TEXT)")


def web_form(n: int) -> dict:
    return {"name": "Анна Иванова", "phone": f"+7 999 {n // 10000 % 1000:03d}-{n % 10000:04d}", "consent": True,
            "comment": "Хочу записаться к кардиологу", "utm_source": "yandex", "utm_medium": "cpc"}


def telegram_update(n: int) -> dict:
    chat = 700_000_000 + n
    return {"update_id": n, "message": {"message_id": 1, "date": int(time.time()), "text": "Здравствуйте!",
                                        "from": {"id": chat, "is_bot": False, "first_name": "Анна"},
                                        "chat": {"id": chat, "type": "private", "first_name": "Анна"}}}


@dataclass
class Cost:
    queries: float
    commits: float


def cost_per_request(path: str, payloads: list[dict], headers: dict, show_sql: bool = False) -> Cost:
    """SQL queries and write transactions per request, in this process, through the whole stack.

    A write transaction is an outermost atomic block's COMMIT, or a write run outside any (autocommit).
    The first payload warms the process's clinic cache and is not counted."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client, commits = Client(HTTP_HOST="127.0.0.1", **headers), 0
    warm_up, payloads = payloads[0], payloads[1:]
    client.post(path, json.dumps(warm_up), content_type="application/json", REMOTE_ADDR="10.8.0.1")
    real_commit = connection.commit

    def counting_commit():
        nonlocal commits
        commits += 1
        real_commit()

    def autocommitted_writes(execute, sql, params, many, context):
        nonlocal commits
        if not connection.in_atomic_block and sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE",
                                                                                      "DELETE"):
            commits += 1
        return execute(sql, params, many, context)

    connection.commit = counting_commit
    try:
        with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(autocommitted_writes):
            for number, payload in enumerate(payloads):
                last_start = len(queries)
                extra = {"REMOTE_ADDR": f"10.9.{number // 250}.{number % 250 + 1}"}
                response = client.post(path, json.dumps(payload), content_type="application/json", **extra)
                if response.status_code not in (200, 201):
                    sys.exit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    finally:
        del connection.commit
    if show_sql:
        print(f"\nSQL of the last probe request to {path}:")
        for n, query in enumerate(queries.captured_queries[last_start:], 1):
            print(f"{n:>3}. [{float(query['time']) * 1000:6.2f} ms] {query['sql']}")
    return Cost(len(queries) / len(payloads), commits / len(payloads))


# --- the servers and the load -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(url: str, data_dir: str) -> dict:
    env = {**os.environ, "CLINICFLOW_DATA_DIR": data_dir, "CLINICFLOW_SECRET_KEY": "bench-" + "x" * 40,
           "PYTHONPATH": str(ROOT), "CLINICFLOW_TRUSTED_PROXIES": "127.0.0.1/32",
           "CLINICFLOW_TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET, "CLINICFLOW_LOG_LEVEL": "WARNING"}
    if url:
        env["DATABASE_URL"] = url
    else:
        env.pop("DATABASE_URL", None)
    return env


def start_server(kind: str, workers: int, env: dict) -> tuple[subprocess.Popen, int]:
    port, bin_dir = free_port(), Path(sys.executable).parent
    app = "benchmarks.support.intake_site:application"
    if kind == "gunicorn":
        command = [str(bin_dir / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                   "--backlog", "2048", "--log-level", "warning", app]
    else:  # waitress through the very function `clinicflow run` serves with: one process, 8 threads
        serve = ("from benchmarks.support.intake_site import application; from clinicflow.cli import web_server; "
                 f"web_server(application, host='127.0.0.1', port={port}).run()")
        command = [sys.executable, "-c", serve]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    # The port opens before the workers have imported Django: wait until every worker can answer.
    deadline, ready = time.monotonic() + 60, 0
    while time.monotonic() < deadline and ready < 2 * workers:
        try:
            ready += urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).status == 200
        except OSError:
            time.sleep(0.1)
    if ready < 2 * workers:
        server.kill()
        sys.exit(f"{kind} did not start on port {port}")
    return server, port


WRK_SCRIPT = textwrap.dedent("""
    -- Every request a new patient from a new client address; threads number their requests apart.
    local threads, counter, mode, secret = 0, 0, "bare", ""
    function setup(thread) thread:set("tid", threads); threads = threads + 1 end
    function init(args) mode = args[1]; secret = args[2] or ""; base = tonumber(args[3]) or 0; code = args[4] end
    request = function()
      counter = counter + 1
      local n = base + tid * 4000000 + counter
      local ip = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
      local headers = {["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip}
      local body
      if mode == "telegram" then
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        local chat = 700000000 + n
        body = string.format('{"update_id":%d,"message":{"message_id":1,"date":%d,"text":"Здравствуйте!",' ..
          '"from":{"id":%d,"is_bot":false,"first_name":"Анна"},"chat":{"id":%d,"type":"private"}}}',
          n, os.time(), chat, chat)
      elseif mode == "web" then
        body = string.format('{"name":"Анна Иванова","phone":"+7 %s %07d","consent":true,' ..
          '"comment":"Хочу записаться","utm_source":"yandex"}', code, n % 10000000)
      else
        body = '{"ping":' .. n .. '}'
      end
      return wrk.format("POST", nil, headers, body)
    end
    done = function(summary, latency, requests)
      local e = summary.errors
      io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
        latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
    end
""")


@dataclass
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    bad_status: int
    socket_errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


OPERATOR_CODES = ["916", "903", "926", "985"]  # a mobile operator code per row, so rows never share a phone


def load(port: int, path: str, mode: str, args, row: int) -> Load:
    script = Path(tempfile.mkdtemp(prefix="clinicflow-wrk-")) / "intake.lua"
    script.write_text(WRK_SCRIPT)
    command = ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.seconds}s", "--timeout", "10s",
               "-s", str(script), f"http://127.0.0.1:{port}{path}", "--", mode, TELEGRAM_SECRET,
               str(row * 10_000_000), OPERATOR_CODES[row]]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    shutil.rmtree(script.parent, ignore_errors=True)
    fields = next(line for line in output.splitlines() if line.startswith("RESULT")).split()[1:]
    requests, micros, p50, p99, bad, broken = (int(value) for value in fields)
    return Load(requests, micros / 1e6, p50 / 1000, p99 / 1000, bad, broken)


# --- the run -------------------------------------------------------------------------------------------

ROWS = [  # (label, server, path, wrk mode)
    ("bare view: one INSERT (floor)", "gunicorn", "/bench/bare", "bare"),
    ("web form POST /api/v1/public/inquiries", "gunicorn", "/api/v1/public/inquiries", "web"),
    ("Telegram webhook POST /hooks/telegram", "gunicorn", "/hooks/telegram", "telegram"),
    ("web form under waitress (embedded run)", "waitress", "/api/v1/public/inquiries", "web"),
]


def run(args, url: str, data_dir: str) -> int:
    from django.db import connection

    from clinicflow.channels.registry import ADAPTERS
    from clinicflow.inbox.models import Inquiry

    seed()
    sqlite = connection.vendor == "sqlite"
    workers = 1 if sqlite and args.workers == SIZES["full"]["workers"] else args.workers
    rows = [row for row in ROWS if row[3] != "telegram" or "telegram" in ADAPTERS]
    costs = {"web": cost_per_request("/api/v1/public/inquiries", [web_form(900_000 + n) for n in range(args.probe)],
                                     {}, args.show_sql)}
    if "telegram" in ADAPTERS:
        from django.test import override_settings

        with override_settings(CLINICFLOW_TELEGRAM_SECRET_TOKEN=TELEGRAM_SECRET):
            costs["telegram"] = cost_per_request(
                "/hooks/telegram", [telegram_update(900_000 + n) for n in range(args.probe)],
                {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": TELEGRAM_SECRET}, args.show_sql)
    connection.close()
    env, results, failed = server_env(url, data_dir), [], []
    for number, (label, kind, path, mode) in enumerate(rows):
        before = Inquiry.objects.count()
        connection.close()
        server, port = start_server(kind, workers, env)
        try:
            result = load(port, path, mode, args, row=number)
        finally:
            server.terminate()
            server.wait(timeout=30)
        created = Inquiry.objects.count() - before
        results.append((label, kind, mode, result))
        if result.bad_status or result.socket_errors or not result.requests:
            failed.append(f"{label}: {result.bad_status} bad answers, {result.socket_errors} socket errors")
        answered = result.requests - result.bad_status - result.socket_errors
        # Requests in flight when wrk stops are answered to nobody but saved: up to one per connection.
        if mode != "bare" and not answered <= created <= answered + args.connections:
            failed.append(f"{label}: {answered} answered, {created} inquiries in the database")
    print_table(args, workers, connection.vendor, costs, results)
    for problem in failed:
        print("FAILED:", problem)
    return 1 if failed else 0


def print_table(args, workers: int, vendor: str, costs: dict, results: list) -> None:
    database = "PostgreSQL" if vendor == "postgresql" else "SQLite (WAL)"
    print(f"\nIntake on {database}, gunicorn {workers} sync workers, wrk 2 threads × {args.connections} "
          f"connections × {args.seconds} s, every request a new patient from a new address\n")
    print(f"{'':42} {'req/s':>8} {'× bare':>7} {'p50 ms':>8} {'p99 ms':>8} {'queries':>8} {'commits':>8}")
    floor = results[0][3].per_second or 1
    for label, _kind, mode, result in results:
        cost = costs.get(mode)
        queries, commits = (f"{cost.queries:.1f}", f"{cost.commits:.1f}") if cost else ("1", "1")
        print(f"{label:42} {result.per_second:8.0f} {result.per_second / floor:7.2f} {result.p50_ms:8.1f} "
              f"{result.p99_ms:8.1f} {queries:>8} {commits:>8}")
    if args.tiny:
        print("\n(--tiny: a smoke run; the numbers are not judged)")
        return
    print(f"\nGoals: ≤ {GOALS['queries']} queries and {GOALS['commits']} commit per new-patient inquiry, "
          f"≥ {GOALS['ratio']:.2f} × the bare view, p99 < {GOALS['p99_ms']} ms")
    for label, kind, mode, result in results[1:]:
        if kind != "gunicorn":
            continue
        cost = costs[mode]
        met = {"queries": cost.queries <= GOALS["queries"], "commits": cost.commits <= GOALS["commits"],
               "throughput": result.per_second / floor >= GOALS["ratio"], "p99": result.p99_ms < GOALS["p99_ms"]}
        print(f"  {label}: " + ", ".join(f"{name} {'met' if ok else 'NOT met'}" for name, ok in met.items()))


def main() -> int:
    if not shutil.which("wrk"):
        sys.exit("benchmarks/intake.py needs wrk (Debian: apt-get install wrk).")
    helpers = queue_benchmark()
    args = parse_args(helpers.DEFAULT_URL.replace("clinicflow_bench", "clinicflow_intake_bench"))
    url = helpers.benchmark_database_url(args.database_url)
    helpers.recreate_database(url)
    data_dir = tempfile.mkdtemp(prefix="clinicflow-intake-bench-")
    try:
        helpers.start_django(url, data_dir)
        return run(args, url, data_dir)
    finally:
        if not args.keep:
            helpers.drop_database(url)
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
