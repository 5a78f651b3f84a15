"""Time from ``make dev`` to a ready URL: a first run on an empty data folder, then second runs on the
same folder (the case a developer meets daily). Baseline in the same run: ``python -c 'import espaluz'``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_to_ready(data_dir: Path) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "QUEUE_URL"}}
    env["ESPALUZ_DATA_DIR"] = str(data_dir)
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "dev", f"ARGS=--port {port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if f"127.0.0.1:{port}" in line:
                return time.perf_counter() - started
        raise RuntimeError("make dev exited before it was ready")
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)


def main() -> None:
    base = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import espaluz.dev.app"], check=True, capture_output=True)
        base.append(time.perf_counter() - started)
    print(f"baseline: python -c 'import espaluz.dev.app' p50 {statistics.median(base):.2f} s")
    data_dir = Path(tempfile.mkdtemp(prefix="espaluz-bench-"))
    try:
        first = time_to_ready(data_dir)
        print(f"make dev, first run (empty data folder: initdb + migrations): {first:.2f} s")
        seconds = [time_to_ready(data_dir) for _ in range(3)]
        p50 = statistics.median(seconds)
        print(
            f"make dev, second run: p50 {p50:.2f} s, max {max(seconds):.2f} s (3 runs); "
            f"ratio to baseline {p50 / statistics.median(base):.1f}x"
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
