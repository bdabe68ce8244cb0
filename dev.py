#!/usr/bin/env python3
"""Set up and run clinicflow from a fresh checkout. Needs only Python 3.11.

    python3 dev.py demo      create .venv, install, run the product with a demo clinic on :8000
    python3 dev.py test      create .venv, install, run the whole test suite (extra args go to pytest)

DATABASE_URL=postgresql://... python3 dev.py test runs the same suite on PostgreSQL.
"""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def python311() -> str:
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    if not found:
        sys.exit("clinicflow needs Python 3.11 (python3.11 was not found on PATH).")
    return found


def ensure_venv() -> None:
    """Create the virtualenv and (re)install when pyproject.toml changed since the last install."""
    if not (BIN / "python").exists():
        print("· creating .venv", flush=True)
        subprocess.run([python311(), "-m", "venv", str(VENV)], check=True)
    stamp = VENV / ".clinicflow-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("· installing clinicflow and its test tools into .venv", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    stamp.write_text(digest)


def ensure_chromium() -> None:
    """Browser tests drive Debian's chromium; install it when missing and we may (never a downloaded browser)."""
    if Path("/usr/bin/chromium").exists():
        return
    apt = shutil.which("apt-get")
    if not apt:
        print("! /usr/bin/chromium is missing and apt-get is not available: browser tests will be skipped")
        return
    sudo = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if sudo is None:
        print("! /usr/bin/chromium is missing and we are not root: browser tests will be skipped")
        return
    print("· installing Debian's chromium for the browser tests", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, apt, "update", "-qq"], check=False, env=env)
    subprocess.run([*sudo, apt, "install", "-y", "-qq", "chromium"], check=False, env=env)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "demo":
        ensure_venv()
        return subprocess.call([str(BIN / "clinicflow"), "run", "--demo", *argv[1:]], cwd=ROOT)
    if command == "test":
        ensure_venv()
        ensure_chromium()
        code = subprocess.call([str(BIN / "python"), "-m", "pytest", *argv[1:]], cwd=ROOT)
        if code == 5:
            print("! pytest collected no tests: that is a failure, not a pass")
            return 1
        return code
    print(__doc__)
    return 0 if command in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
