#!/usr/bin/env python3
"""Set-up and entry points for people and CI: `python3 dev.py demo`, `python3 dev.py test`.

Needs only Python 3.11+. Creates ./.venv and installs Tiketti with its test
dependencies on first use (and again whenever pyproject.toml changes).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".tiketti-installed"


def ensure_env() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Tiketti needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print("creating virtualenv in .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("installing Tiketti and its dependencies into .venv …", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def main() -> int:
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    rest = sys.argv[2:]
    if what not in ("demo", "test", "setup"):
        print(__doc__)
        return 2
    ensure_env()
    os.chdir(ROOT)
    if what == "setup":
        return 0
    if what == "demo":
        cmd = [str(BIN / "tiketti"), "demo", "--script", "config/demo-script.txt", *rest]
    else:
        # two workers: the suite waits on sockets as much as on the CPU (`-n 0` after the command runs it in one)
        cmd = [str(BIN / "python"), "-m", "pytest", "-q", "-n", "2", *rest]
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
