"""`clinicflow run --demo`: the embedded product comes up from nothing, serves, works, restarts a dead
worker and stops cleanly."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def workers_of(pid: int) -> list[int]:
    """The children that are workers (`run --demo` also starts the demo MIS)."""
    return [child for child in children_of(pid)
            if b"worker" in Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.load(response)


def test_run_with_demo_serves_the_clinic_restarts_a_dead_worker_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the embedded default: SQLite
    env["CLINICFLOW_DATA_DIR"] = str(tmp_path)
    env["CLINICFLOW_MIS_SIM_PORT"] = str(free_port())
    env.pop("CLINICFLOW_MIS_BASE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "clinicflow.cli", "run", "--demo", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        health = None
        for _ in range(240):  # a loaded machine (CI shares its cores) takes a while for the demo
            try:
                health = get_json(f"http://127.0.0.1:{port}/healthz")
                if health["worker"]["status"] == "ok":
                    break
            except OSError:
                pass
            time.sleep(0.25)
        assert health and health["database"]["vendor"] == "sqlite" and health["worker"]["status"] == "ok", health
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as login:
            assert login.status == 200
        assert health["worker"]["restarts"] == 0
        # The worker dies (an out-of-memory kill, say): run notices, says so, and starts another one.
        # The demo MIS is up and connected: its FHIR metadata answers.
        for _ in range(120):
            try:
                metadata = get_json(f"http://127.0.0.1:{env['CLINICFLOW_MIS_SIM_PORT']}/fhir/metadata")
                break
            except OSError:
                time.sleep(0.25)
        assert metadata["fhirVersion"] == "4.0.1"
        [worker] = workers_of(server.pid)
        os.kill(worker, signal.SIGKILL)
        for _ in range(120):
            health = get_json(f"http://127.0.0.1:{port}/healthz")
            # The dead worker's heartbeat is still fresh: a second one means the new worker is working.
            if health["worker"]["alive"] == 2:
                break
            time.sleep(0.25)
        assert health["worker"]["restarts"] == 1, health
        assert health["worker"]["last_exit_code"] == -signal.SIGKILL
        assert workers_of(server.pid) not in ([], [worker])
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    # The log-in line is in the clinic's language (Russian for the demo): its address and user, not its words.
    assert f"http://127.0.0.1:{port}/" in output and "reception / reception-demo" in output
    assert "stopped" in output  # the worker went down with the server
    assert output.count("exited unexpectedly with code -9; restart 1 in 1 s") == 1, output
    assert (tmp_path / "clinicflow.sqlite3").exists()
    assert "demo MIS (FHIR R4) on" in output
