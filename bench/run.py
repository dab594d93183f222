"""Run every benchmark script in bench/ (``*_bench.py``), one after another; used by ``make bench``.

Each script gets the same environment (DATABASE_URL, REDIS_URL from the Makefile) and a time
limit; the exit status is non-zero when any script failed. Extra arguments are passed to each.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIME_LIMIT = int(os.environ.get("BENCH_TIME_LIMIT", "600"))


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    scripts = sorted(HERE.glob("*_bench.py"))
    if not scripts:
        print("No benchmark scripts (bench/*_bench.py).")
        return 0
    failed = []
    for script in scripts:
        print(f"=== {script.name} ===", flush=True)
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, str(script), *sys.argv[1:]], cwd=HERE.parent)
        try:
            code = proc.wait(timeout=TIME_LIMIT)
        except (subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
            # SIGTERM lets the script stop its own server and drop its database.
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            code = "stopped"
            if isinstance(exc, KeyboardInterrupt):
                print(f"=== {script.name}: interrupted ===", flush=True)
                return 130
        print(
            f"=== {script.name}: {'ok' if code == 0 else f'FAILED ({code})'} in {time.monotonic() - started:.0f} s ===",
            flush=True,
        )
        if code != 0:
            failed.append(script.name)
    if failed:
        print("Failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
