"""Run the benchmark figures and write BENCHMARKS.md (``make bench``; see bench/README.md).

    python -m bench.run               # every figure; rewrites BENCHMARKS.md
    python -m bench.run http scaling  # some figures; writes var/bench/last-run.md only
    python -m bench.run --list

Each figure runs in a process of its own (its own settings and environment, and a crash or a time
limit costs that figure only). The process group of each figure is killed when it ends, so no
server it started outlives it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.config import ROOT, VAR_DIR, BenchConfig, check_database_name
from bench.loadgen import describe_generator
from bench.procs import stop_on_sigterm
from bench.report import render
from bench.results import Row, figure_key, read_rows


@dataclass(frozen=True)
class Figure:
    name: str
    module: str
    numbers: str
    title: str
    # The figure's share of the time budget; the figures' shares add up to 1.
    share: float


# HTTP runs last: it takes whatever the others left, since posting the orders of figure 6 is
# the one step that can always use more time.
FIGURES = [
    Figure("service", "bench.fig_service", "1", "service level, one process", 0.16),
    Figure("queries", "bench.fig_queries", "3", "query counts per endpoint", 0.03),
    Figure("scaling", "bench.fig_scaling", "4", "read latency at 1k, 10k, 100k orders", 0.14),
    Figure("delivery", "bench.fig_delivery", "5", "subscriptions run by Celery workers", 0.24),
    Figure("profile", "bench.profile_create", "", "profile of the create path", 0.04),
    Figure("log_order", "bench.fig_log_order", "7", "log order: four ways to keep it", 0.06),
    Figure("outbound", "bench.fig_outbound", "8", "outbound webhooks", 0.09),
    Figure("http", "bench.fig_http", "2, 6", "HTTP under gunicorn, and memory", 0.24),
]
GRACE_SECONDS = 30.0


def figure_env(
    cfg: BenchConfig, figure: Figure, results: Path, deadline: float = 0.0
) -> dict[str, str]:
    """Production-like settings: DEBUG off, a secret key, hosts, no SSL redirect on loopback.

    No process of a figure runs the reactions in the committing process: the subscriptions are
    run by the Celery workers (and beat) a figure starts, or in figure 1 by the figure itself,
    measured apart from the commands.
    """
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=cfg.database_url,
        DEBUG="0",
        SECRET_KEY="bench-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="0",
        # No real provider or carrier is measured: their simulated clients, declared.
        OMS_ALLOW_SIMULATED_PROVIDERS="1",
        CELERY_BROKER_URL=cfg.broker_url,
        OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT="0",
        # One client at full speed: the per-user and per-address limits would measure themselves.
        OMS_THROTTLE_WRITES="",
        OMS_THROTTLE_WEBHOOKS="",
        OMS_THROTTLE_AUTH_FAILURES="",
        OMS_BENCH_QUEUE=cfg.queue,
        OMS_BENCH_RESULTS_FILE=str(results),
        OMS_BENCH_DEADLINE=str(deadline or time.time() + 3600),
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"),
        PYTHONUNBUFFERED="1",
    )
    return env


def kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def run_figure(cfg: BenchConfig, figure: Figure, results: Path, seconds: float) -> str | None:
    """Run one figure's process with ``seconds`` to go; None when it succeeded, else why not."""
    results.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", figure.module],
        cwd=ROOT,
        env=figure_env(cfg, figure, results, time.time() + seconds),
        start_new_session=True,
    )
    try:
        code = process.wait(seconds + GRACE_SECONDS)
        return None if code == 0 else f"exited with status {code} (see the output above)"
    except subprocess.TimeoutExpired:
        kill_group(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            kill_group(process.pid, signal.SIGKILL)
            process.wait()
        return f"stopped {GRACE_SECONDS:.0f} s after its deadline ({seconds:.0f} s)"
    except BaseException:
        kill_group(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(30)
        raise
    finally:
        # Whatever the figure left behind (a server whose parent died) goes with its group.
        kill_group(process.pid, signal.SIGKILL)


def prepare_databases(cfg: BenchConfig) -> None:
    from bench.database import recreate_database

    recreate_database(cfg.database_url)
    recreate_database(cfg.peer_database_url)
    env = figure_env(cfg, FIGURES[0], VAR_DIR / "unused.jsonl")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    pending = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    if pending.returncode != 0:
        print(
            "[bench] warning: the models have changes that no migration describes; figures "
            "that write those tables will fail",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("figures", nargs="*", help="figure names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    args = parser.parse_args(argv)
    if args.list:
        for figure in FIGURES:
            print(f"{figure.name:10} figure {figure.numbers or '-':5} {figure.title}")
        return 0
    known = {figure.name: figure for figure in FIGURES}
    unknown = [name for name in args.figures if name not in known]
    if unknown:
        parser.error(f"unknown figure(s) {unknown}; choose from {sorted(known)}")
    chosen = [known[name] for name in args.figures] if args.figures else FIGURES
    full = not args.figures

    stop_on_sigterm()  # so a SIGTERM, like Ctrl-C, stops the running figure's servers too
    cfg = BenchConfig()
    check_database_name(cfg.database_name)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    when = dt.datetime.now(dt.UTC)
    load_at_start = os.getloadavg()[0]

    def progress(text: str) -> None:
        elapsed = time.monotonic() - started
        print(f"[bench {elapsed:6.0f}s] {text}", flush=True)

    profile = VAR_DIR / "profile.txt"
    profile.unlink(missing_ok=True)
    progress(f"preparing {cfg.database_url} (and its peer database); {cfg.runs} runs per figure")
    try:
        prepare_databases(cfg)
    except subprocess.CalledProcessError:
        progress("`manage.py migrate` failed (output above): nothing can be measured")
        return 2

    rows: list[Row] = []
    failures: dict[str, str] = {}
    for index, figure in enumerate(chosen):
        # The figure's share of what is left of the budget, with the grace of the later ones kept.
        left = cfg.budget_seconds - (time.monotonic() - started)
        later = chosen[index + 1 :]
        shares = figure.share + sum(f.share for f in later)
        seconds = max(30.0, (left - GRACE_SECONDS * len(later)) * figure.share / shares)
        progress(
            f"figure {figure.numbers or '-'}: {figure.title} ({figure.name}), "
            f"{seconds:.0f} s at most"
        )
        results = VAR_DIR / f"rows-{figure.name}.jsonl"
        problem = run_figure(cfg, figure, results, seconds)
        figure_rows = read_rows(results)
        rows.extend(figure_rows)
        if problem:
            failures[figure.name] = problem
            progress(f"figure {figure.name} FAILED: {problem}")
            rows.append(
                Row(
                    figure=figure.numbers.split(",")[0] + ".x" if figure.numbers else "-",
                    name=f"{figure.title} (the rest of this figure)",
                    failed=problem,
                )
            )
    rows.sort(key=lambda row: figure_key(row.figure))
    duration = time.monotonic() - started
    text = render(
        cfg,
        rows,
        when,
        duration,
        profile=profile,
        load_generator=describe_generator(cfg.load_generator),
        load_average=(load_at_start, os.getloadavg()[0]),
    )
    target = ROOT / "BENCHMARKS.md" if full else VAR_DIR / "last-run.md"
    target.write_text(text)
    progress(f"wrote {target.relative_to(ROOT)} in {duration / 60:.1f} min")
    if failures:
        progress(f"figures with failures: {', '.join(sorted(failures))}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
