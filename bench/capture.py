"""Benchmark: the public capture endpoint against a bare DRF create endpoint, same server, same run.

    .venv/bin/python bench/capture.py [--seconds 20] [--rounds 2] [--connections 4]

Creates a fresh PostgreSQL database (crm_bench_capture on 127.0.0.1:5432), serves it with
gunicorn (2 sync workers, bench.settings), and drives each endpoint with wrk (4 connections),
alternating bare / capture / routed per round so machine noise hits all. "capture" posts to a
workspace with no reps (routing not in use); "routed" to one with 3 reps, so every lead is also
assigned by round robin (its activity, event and the rep's rotation stamp). Every request is a new
person with a fresh Idempotency-Key. Prints requests/s and p99 per run, the medians, and the
ratios (of the medians, and per round).
Needs wrk (Debian package `wrk`).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import fresh_postgres  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")
DB = "crm_bench_capture"
PORT = 8791
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "SECRET_KEY": "bench-only",
    "DEBUG": "0", "ALLOW_HTTP": "1",
    "LOG_LEVEL": "ERROR",
    "PYTHONPATH": str(ROOT),
}


def manage(*args: str) -> str:
    return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=ENV, check=True, capture_output=True, text=True).stdout


def fresh_database() -> None:
    os.environ["DATABASE_URL"] = ENV["DATABASE_URL"]  # this benchmark's own database, whatever the shell says
    fresh_postgres(ENV["DATABASE_URL"])
    manage("migrate", "--noinput", "-v0")


def set_up_tenant(slug: str, reps: int = 0) -> str:
    setup = json.loads(manage("create_tenant", slug, "--admin-username", f"{slug}-admin",
                              "--admin-password", "bench-admin-pass-2026", "--json"))
    # The benchmark measures throughput, not the per-visitor limit (all traffic comes from one IP).
    manage("shell", "-c", "from leads.models import Channel; Channel.objects.update(rate_limit_per_hour=10**9)")
    if reps:  # routing in use: round robin among these reps on every capture
        manage("shell", "-c", f"from crm.models import Tenant, User; t = Tenant.objects.get(slug={slug!r}); "
               f"[User.objects.create_user(username=f'{slug}-rep{{i}}', tenant=t, role='rep') for i in range({reps})]")
    return setup["form_key"]


def wrk(path: str, form_key: str, run: str, seconds: int, connections: int) -> dict:
    env = {**ENV, "FORM_KEY": form_key, "BENCH_PATH": path, "BENCH_RUN": run}
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(ROOT / "bench" / "capture_load.lua"),
         f"http://127.0.0.1:{PORT}"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit(f"{path}: {errors.group(1)} non-2xx answers; wrk said:\n{out}")
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p99_ms": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()

    fresh_database()
    keys = {"bare": set_up_tenant("bench"), "routed": set_up_tenant("bench-routed", reps=3)}
    keys["capture"] = keys["bare"]
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "crm.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         "--workers", "2", "--log-level", "error"],
        cwd=ROOT, env=ENV,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        targets = {"bare": "/bench/bare-leads", "capture": "/api/v1/leads", "routed": "/api/v1/leads"}
        for name, path in targets.items():  # warm up all (connections, query plans, caches)
            wrk(path, keys[name], f"warm-{name}", 3, args.connections)
        results = {name: [] for name in targets}
        for round_ in range(args.rounds):
            for name, path in targets.items():
                result = wrk(path, keys[name], f"r{round_}-{name}", args.seconds, args.connections)
                results[name].append(result)
                print(f"round {round_ + 1} {name:8s} {result['requests']:6d} requests  "
                      f"{result['rps']:8.1f} req/s  p99 {result['p99_ms']:6.1f} ms", flush=True)
    finally:
        server.terminate()
        server.wait()

    rows = manage("shell", "-v", "0", "-c", "from leads.models import Lead; print(Lead.objects.count())").strip()
    print(f"\nleads in the database after the run: {rows}")
    median = {name: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p99_ms")} for name, runs in results.items()}
    for name, m in median.items():
        print(f"median {name:8s} {m['rps']:8.1f} req/s  p99 {m['p99_ms']:6.1f} ms")
    print(f"capture / bare throughput: {median['capture']['rps'] / median['bare']['rps']:.2f}")
    print(f"capture with routing / bare throughput: {median['routed']['rps'] / median['bare']['rps']:.2f}")
    # Each round's endpoints ran back to back, so their ratio cancels most of the machine's drift.
    for name in ("capture", "routed"):
        paired = [run["rps"] / bare["rps"] for run, bare in zip(results[name], results["bare"], strict=True)]
        print(f"{name} / bare per round: {' '.join(f'{r:.2f}' for r in paired)} "
              f"(median {statistics.median(paired):.2f}, lowest {min(paired):.2f})")


if __name__ == "__main__":
    main()
