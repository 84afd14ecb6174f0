"""``python -m drill``: run a fault drill (see docs/operations.md "Fault drills")."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from drill.runner import DEFAULT_DATABASE_URL, Options, main


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m drill", description=__doc__)
    parser.add_argument("--mode", choices=("celery", "embedded"), default="celery")
    parser.add_argument("--orders", type=int, default=None, help="default 1000 (100 with --small)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--small", action="store_true", help="about 100 orders and each fault once (CI)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="times each fault is injected")
    parser.add_argument("--concurrency", type=int, default=4, help="parallel API clients")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("OMS_DRILL_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database of the celery mode, dropped and recreated "
        "(its name must contain 'drill')",
    )
    parser.add_argument("--report", type=Path, default=None, help="write this mode's section")
    parser.add_argument(
        "--sabotage", action="store_true", help="install a handler that breaks an invariant"
    )
    parser.add_argument("--no-faults", action="store_true", help="load and checks only")
    parser.add_argument("--quiescence-timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    orders = args.orders or (100 if args.small else 1000)
    return Options(
        mode=args.mode,
        orders=orders,
        seed=args.seed,
        rounds=args.rounds or (1 if args.small else 2),
        concurrency=args.concurrency,
        database_url=args.database_url,
        report=args.report,
        sabotage=args.sabotage,
        inject=not args.no_faults,
        quiescence_seconds=args.quiescence_timeout,
    )


if __name__ == "__main__":
    sys.exit(main(parse(sys.argv[1:])))
