"""Long use as a library: repeated analyze runs in one process do not grow its memory (the
short version of ``benchmarks/long_use.py``, which runs 100)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_repeated_runs_keep_memory_flat():
    code = ("import sys; sys.path.insert(0, 'benchmarks'); from long_use import measure; "
            "from pathlib import Path; "
            "points = measure(Path('corpora/finance-politics-zh'), runs=10, warmup=6, every=5); "
            "print(points[0][1], points[-1][1])")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    first, last = map(float, done.stdout.split())
    assert last / first - 1 < 0.05, (first, last)
