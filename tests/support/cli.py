"""Run the `tiketti` command as a separate process, the way an MTA or an operator does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_tiketti(args: list[str], *, env: dict[str, str], cwd: Path, stdin: bytes | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TIKETTI_")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )
