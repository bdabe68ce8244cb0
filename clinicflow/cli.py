"""The `clinicflow` command.

    clinicflow run [--demo] [--host H] [--port P]   the whole product: migrate, web server, one worker
    clinicflow worker                                 a background worker (run as many as you like)
    clinicflow demo                                   load the demo clinic into the database
    clinicflow audit-verify                           check the access log's hash chain (exit 1 if tampered)
    clinicflow manage <django command> ...            any Django management command
"""

import argparse
import os
import signal
import sys


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


def run(args) -> int:
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
    parser = argparse.ArgumentParser(prog="clinicflow", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="run the web interface and one worker")
    run_parser.add_argument("--demo", action="store_true", help="load the demo clinic first (once)")
    run_parser.add_argument("--host", default=os.getenv("CLINICFLOW_HOST", "127.0.0.1"))
    run_parser.add_argument("--port", type=int, default=int(os.getenv("CLINICFLOW_PORT", "8000")))
    run_parser.add_argument("--no-worker", action="store_true", help="web only (run workers separately)")
    run_parser.add_argument("--no-migrate", action="store_true",
                            help="skip migrations (when several web processes start at once)")
    sub.add_parser("worker", help="run a background worker")
    sub.add_parser("demo", help="load the demo clinic")
    sub.add_parser("audit-verify", help="check that nobody edited or deleted access-log rows")
    sub.add_parser("manage", help="any Django management command")
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
