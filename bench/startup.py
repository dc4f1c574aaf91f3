"""Start-up time of `neuroshell -c "help"` next to the floor of any shell built on prompt-toolkit and rich.

Run: python bench/startup.py [--runs 10]. Target: neuroshell within 1.3x of the floor.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bytecode import byte_compile_neuroshell


def median_seconds(command: list[str], runs: int, env: dict[str, str]) -> float:
    subprocess.run(command, capture_output=True, env=env, check=True)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, env=env, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    byte_compile_neuroshell()
    executable = shutil.which("neuroshell") or str(Path(sys.executable).with_name("neuroshell"))
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "NEUROSHELL_HOME": home}
        shell = median_seconds([executable, "-c", "help"], runs, env)
        floor = median_seconds([sys.executable, "-c", "import prompt_toolkit, rich, pygments"], runs, env)
    print(f"{'what':48} {'median wall time':>18}")
    print(f"{'neuroshell -c help':48} {shell * 1000:>15.1f} ms")
    print(f"{'python -c import prompt_toolkit, rich, pygments':48} {floor * 1000:>15.1f} ms")
    ratio = shell / floor
    print(f"ratio {ratio:.2f}x (target <= 1.30x): {'met' if ratio <= 1.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
