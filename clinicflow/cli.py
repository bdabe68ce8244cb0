"""The `clinicflow` command.

    clinicflow run [--demo] [--host H] [--port P]   the whole product: migrate, web server, one worker
    clinicflow worker                                 a background worker (run as many as you like)
    clinicflow demo                                   load the demo clinic into the database
    clinicflow audit-verify                           check the access log's hash chain (exit 1 if tampered)
    clinicflow mis-sync                               one reconciliation with the MIS, then exit
    clinicflow mis-sim [--port P] [--webhook URL]     the demo MIS (a small FHIR R4 server)
    clinicflow manage <django command> ...            any Django management command
"""

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinicflow.settings")
    import django

    django.setup()


def web_server(application, *, host: str, port: int):
    """The waitress server of `clinicflow run` (tests serve the app through this very function)."""
    from waitress import create_server

    # waitress deletes X-Forwarded-For & co. unless the peer is its one `trusted_proxy`, and when trusted it
    # rewrites REMOTE_ADDR itself. We pass the headers through untouched instead: `client_ip` believes them
    # only from CLINICFLOW_TRUSTED_PROXIES (several proxies, networks), and Django ignores X-Forwarded-Host
    # and -Proto unless told otherwise.
    return create_server(application, host=host, port=port, threads=8, ident="clinicflow",
                         clear_untrusted_proxy_headers=False)


def _demo_mis_connect(args) -> int | None:
    """Before settings load: point clinicflow at the demo MIS's port, if it is free. Returns the port."""
    if os.getenv("CLINICFLOW_MIS_BASE_URL"):
        return None  # a real MIS is configured: the demo uses it
    port = int(os.getenv("CLINICFLOW_MIS_SIM_PORT", str(args.port + 1)))
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            print(f"Port {port} is busy, so the demo MIS is not started: clinicflow runs without an MIS. "
                  "Set CLINICFLOW_MIS_SIM_PORT to a free port to have one.", flush=True)
            return None
    os.environ["CLINICFLOW_MIS_BASE_URL"] = f"http://127.0.0.1:{port}/fhir"
    os.environ.setdefault("CLINICFLOW_MIS_WEBHOOK_TOKEN", secrets.token_urlsafe(24))
    return port


def _demo_mis_start(port: int, web_port: int) -> subprocess.Popen:
    """Start the demo MIS; a thread waits until it answers and mirrors its doctors once, so the web starts now."""
    process = subprocess.Popen([sys.executable, "-m", "clinicflow.cli", "mis-sim", "--port", str(port),
                                "--webhook", f"http://127.0.0.1:{web_port}/hooks/mis/fhir"], env=os.environ.copy())
    threading.Thread(target=_demo_mis_sync, args=(process, port), daemon=True).start()
    return process


def _demo_mis_sync(process: subprocess.Popen, port: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    for _attempt in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/fhir/metadata", timeout=1).close()
            break
        except OSError:
            if process.poll() is not None:
                print("The demo MIS did not start; clinicflow runs on without it.", flush=True)
                return
            time.sleep(0.2)
    try:
        call_command("mis_sync")
    except Exception as exc:  # a demo convenience: the worker's reconciliation tries again later
        print(f"The first sync with the demo MIS failed ({exc}); the worker will try again.", flush=True)
    finally:
        connection.close()


def run(args) -> int:
    sim_port = _demo_mis_connect(args) if args.demo else None
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    from clinicflow.automation.supervisor import supervise_worker
    from clinicflow.clinic.models import Branch
    from clinicflow.wsgi import application

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    if not args.no_migrate:
        call_command("migrate", interactive=False, verbosity=0)
    os.environ["CLINICFLOW_PORT"] = str(args.port)  # so the demo prints the right log-in address
    if args.demo and not Branch.objects.exists():
        call_command("demo")
    elif args.demo:
        print("The database already has a clinic; the demo was loaded before.")
    demo_mis = _demo_mis_start(sim_port, args.port) if sim_port else None
    # SIGTERM (systemd, docker stop) and SIGHUP (the terminal closed) end the server like Ctrl+C does, so
    # the worker below is stopped too.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(0))
    worker = None
    if not args.no_worker:
        worker = supervise_worker([sys.executable, "-m", "clinicflow.cli", "worker"], env=os.environ.copy())
    db = settings.DATABASES["default"]
    print(f"clinicflow on http://{args.host}:{args.port}/  (database: {db['ENGINE'].rsplit('.', 1)[-1]} "
          f"{db['NAME']}; a worker is {'running' if worker else 'not started'}). Ctrl+C stops it.", flush=True)
    try:
        web_server(application, host=args.host, port=args.port).run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if worker:
            worker.stop()
        if demo_mis:
            demo_mis.terminate()
    return 0


def manage(argv: list[str]) -> int:
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["clinicflow manage", *argv])
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "manage":
        return manage(argv[1:])
    if argv and argv[0] in ("worker", "demo"):
        return manage(argv)
    if argv and argv[0] == "audit-verify":
        return manage(["audit_verify", *argv[1:]])
    if argv and argv[0] in ("mis-sync", "mis-sim"):
        return manage([argv[0].replace("-", "_"), *argv[1:]])
    parser = argparse.ArgumentParser(prog="clinicflow", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run the web interface and one worker")
    run_parser.add_argument("--demo", action="store_true",
                            help="load the demo clinic first (once) and connect the demo MIS")
    run_parser.add_argument("--host", default=os.getenv("CLINICFLOW_HOST", "127.0.0.1"))
    run_parser.add_argument("--port", type=int, default=int(os.getenv("CLINICFLOW_PORT", "8000")))
    run_parser.add_argument("--no-worker", action="store_true", help="web only (run workers separately)")
    run_parser.add_argument("--no-migrate", action="store_true",
                            help="skip migrations (when several web processes start at once)")
    sub.add_parser("worker", help="run a background worker")
    sub.add_parser("demo", help="load the demo clinic")
    sub.add_parser("audit-verify", help="check that nobody edited or deleted access-log rows")
    sub.add_parser("mis-sync", help="one reconciliation with the MIS (reference data, statuses), then exit")
    sub.add_parser("mis-sim", help="run the demo MIS, a small FHIR R4 server")
    sub.add_parser("manage", help="any Django management command")
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
