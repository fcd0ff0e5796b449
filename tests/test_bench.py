"""Smoke test of the speed benchmark: `python -m bench --quick` runs and prints its table.

Speed is measured in bench/, never asserted here.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_bench_quick_runs_and_reports():
    result = subprocess.run([sys.executable, "-m", "bench", "--quick", "--no-gemm"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "784-50 sigmoid-10 softmax" in out
    assert re.search(r"^machine\s+.+, \d+ cores", out, flags=re.M)
    assert re.search(r"NumPy \d+\.\d+", out)
    row = re.search(r"^glassnet\s+(\d+\.\d+)\s+(\d+\.\d+)-(\d+\.\d+)\s+(\d\.\d{4})\s+1\.00$", out, flags=re.M)
    assert row, out
    assert 0 <= float(row.group(4)) <= 1
    assert re.search(r"^pytorch\s+(\d+\.\d+)\s+\S+\s+\d\.\d{4}\s+\d+\.\d\d$", out, flags=re.M) \
        or re.search(r"^pytorch\s+skipped", out, flags=re.M)


def test_bench_script_runs_from_its_path():
    result = subprocess.run([sys.executable, os.path.join("bench", "run.py"), "--quick", "--no-torch", "--no-gemm"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^pytorch\s+skipped: left out", result.stdout, flags=re.M)
