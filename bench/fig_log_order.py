"""Figure 7: how the log keeps its order, four ways, with concurrent writers and one reader.

A reader that follows the log with "what comes after the last event I saw" must never skip an
event that commits after a later one was read. Each technique gets a scratch table of its own in
the bench database, shaped like ``events_storedevent`` (``sequence`` bigserial primary key,
``payload`` jsonb) plus what the technique needs:

* A, commit-time position (what the product does, migration 0005 of the events app): a deferred
  constraint trigger takes a transaction-level advisory lock at COMMIT and numbers the rows from
  a sequence; the reader follows ``position``.
* B, the visibility horizon: each row stores ``pg_current_xact_id()``; the reader reads only rows
  whose transaction id is below ``pg_snapshot_xmin(pg_current_snapshot())``, in (transaction id,
  sequence) order, so its position is that pair.
* C, a table lock: each transaction takes ``LOCK TABLE ... IN EXCLUSIVE MODE`` before it inserts
  and holds it to its commit (what the ``eventsourcing`` library does); the reader follows
  ``sequence``.
* D, the baseline: plain inserts, the reader follows ``sequence``; nothing keeps the commit order,
  so the reader can skip events.

In each run, every technique in turn gets the same load for the same window: ``WRITERS``
connections (threads, psycopg), each doing short transactions that insert one or two rows, wait
0-2 ms (a command doing its other writes) and commit, while one reader connection polls the
technique's safe read (no pause while it finds rows, 1 ms when it finds none). The techniques
take turns in another order in each run. Measured per technique:

* committed events/s: the events whose COMMIT returned within the window, divided by the window;
* transaction latency p50 and p99: from the transaction's first statement to its COMMIT's return,
  so the lock wait of C (taken before the insert) and of A (taken at COMMIT) both count;
* the reader's lag p50 and p99: from the return of an event's COMMIT to the reader's first sight
  of it (both clocks are this process's; a reader that sees a row before its writer heard back
  counts 0);
* the events the reader skipped: committed rows at or before the reader's final position that it
  never returned. A, B and C must skip none (the figure fails if one does); D shows what reading
  by insert order loses.

B's horizon is the whole server's: any transaction holding a transaction id, in any database of
the cluster (another application, a slow handler, a session left idle in a transaction), holds
its reader back as long as it stays open. Its lag here includes whatever else ran on the server.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.budget import Runs, join
from bench.config import BenchConfig
from bench.results import Row, emit
from bench.stats import percentile

WRITERS = 8
THINK_SECONDS = (0.0, 0.002)
LONGEST_WINDOW = 3.0
SHORTEST_WINDOW = 1.0
WARM_UP_WINDOW = 0.5
# Setting up a technique, starting its threads and letting the reader catch up, per turn.
TURN_OVERHEAD = 1.0
READ_BATCH = 1000
CATCH_UP_SECONDS = 5.0
# Arbitrary, fixed, and not the product's (7301190001): the lock of technique A's scratch table.
BENCH_POSITION_LOCK = 7_301_190_077


@dataclass(frozen=True)
class Technique:
    key: str
    title: str
    table: str
    create: str
    # The statement a transaction runs before it inserts (C's table lock), if any.
    before_insert: str
    # The reader's safe read: parameters are the reader's position, it returns (sequence, *key).
    read: str
    # The reader's position before the first read.
    start: tuple[Any, ...]
    # Every row's (sequence, *key), to tell skipped rows from rows not read yet.
    keys: str


def _techniques() -> list[Technique]:
    a, b, c, d = (f"bench_log_{letter}" for letter in "abcd")
    return [
        Technique(
            key="A",
            title="A commit-time position",
            table=a,
            create=f"""
                CREATE TABLE {a} (
                    sequence bigserial PRIMARY KEY,
                    payload jsonb NOT NULL,
                    position bigint UNIQUE
                );
                CREATE SEQUENCE {a}_position_seq;
                CREATE FUNCTION {a}_number_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_advisory_xact_lock({BENCH_POSITION_LOCK});
                    UPDATE {a} SET position = nextval('{a}_position_seq')
                     WHERE sequence = NEW.sequence;
                    RETURN NULL;
                END
                $$;
                CREATE CONSTRAINT TRIGGER {a}_position_at_commit
                    AFTER INSERT ON {a}
                    DEFERRABLE INITIALLY DEFERRED
                    FOR EACH ROW EXECUTE FUNCTION {a}_number_at_commit();
            """,
            before_insert="",
            read=f"SELECT sequence, position FROM {a} WHERE position > %s "
            f"ORDER BY position LIMIT {READ_BATCH}",
            start=(0,),
            keys=f"SELECT sequence, position FROM {a}",
        ),
        Technique(
            key="B",
            title="B visibility horizon",
            table=b,
            create=f"""
                CREATE TABLE {b} (
                    sequence bigserial PRIMARY KEY,
                    payload jsonb NOT NULL,
                    transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id()
                );
                CREATE INDEX {b}_order ON {b} (transaction_id, sequence);
            """,
            before_insert="",
            read=f"SELECT sequence, transaction_id::text::bigint, sequence FROM {b} "
            "WHERE (transaction_id, sequence) > (%s::text::xid8, %s) "
            "AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) "
            f"ORDER BY transaction_id, sequence LIMIT {READ_BATCH}",
            start=(0, 0),
            keys=f"SELECT sequence, transaction_id::text::bigint, sequence FROM {b}",
        ),
        Technique(
            key="C",
            title="C table lock",
            table=c,
            create=f"CREATE TABLE {c} (sequence bigserial PRIMARY KEY, payload jsonb NOT NULL);",
            before_insert=f"LOCK TABLE {c} IN EXCLUSIVE MODE",
            read=f"SELECT sequence, sequence FROM {c} WHERE sequence > %s "
            f"ORDER BY sequence LIMIT {READ_BATCH}",
            start=(0,),
            keys=f"SELECT sequence, sequence FROM {c}",
        ),
        Technique(
            key="D",
            title="D insert order (baseline)",
            table=d,
            create=f"CREATE TABLE {d} (sequence bigserial PRIMARY KEY, payload jsonb NOT NULL);",
            before_insert="",
            read=f"SELECT sequence, sequence FROM {d} WHERE sequence > %s "
            f"ORDER BY sequence LIMIT {READ_BATCH}",
            start=(0,),
            keys=f"SELECT sequence, sequence FROM {d}",
        ),
    ]


def drop_tables(url: str, techniques: list[Technique]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for technique in techniques:
            conn.execute(f"DROP TABLE IF EXISTS {technique.table} CASCADE")
            conn.execute(f"DROP SEQUENCE IF EXISTS {technique.table}_position_seq")
            conn.execute(f"DROP FUNCTION IF EXISTS {technique.table}_number_at_commit()")


def create_tables(url: str, techniques: list[Technique]) -> None:
    drop_tables(url, techniques)
    with psycopg.connect(url, autocommit=True) as conn:
        for technique in techniques:
            conn.execute(technique.create)


def empty_table(url: str, technique: Technique) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {technique.table} RESTART IDENTITY")
        if technique.key == "A":
            conn.execute(f"ALTER SEQUENCE {technique.table}_position_seq RESTART")


@dataclass
class Turn:
    """What one technique's turn measured."""

    events: int = 0
    window: float = 0.0
    latencies: list[float] = field(default_factory=list)
    commit_latencies: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    committed: int = 0
    skipped: int = 0
    duplicates: int = 0
    unread: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.window


def guarded(errors: list[str], run: Callable[[], None]) -> Callable[[], None]:
    def target() -> None:
        try:
            run()
        except Exception as exc:  # reported after the turn, never swallowed
            errors.append(f"{type(exc).__name__}: {exc}")

    return target


def turn(url: str, technique: Technique, window: float, seed: int) -> Turn:
    """One technique under the load for ``window`` seconds, with its reader; then the checks."""
    empty_table(url, technique)
    result = Turn(window=window)
    committed_at: dict[int, float] = {}
    seen_at: dict[int, float] = {}
    lock = threading.Lock()
    window_end = 0.0

    def open_window() -> None:
        # Run by the last thread to reach the barrier: the window starts once every connection
        # is open, and before any of them goes on.
        nonlocal window_end
        window_end = time.perf_counter() + window

    go = threading.Barrier(WRITERS + 2, action=open_window)
    writers_done = threading.Event()
    insert = (
        f"INSERT INTO {technique.table} (payload) "
        "SELECT jsonb_build_object('writer', %s::int, 'number', n) "
        "FROM generate_series(1, %s::int) AS n RETURNING sequence"
    )

    def write(number: int) -> None:
        rng = random.Random(seed * 100 + number)
        latencies: list[float] = []
        commit_latencies: list[float] = []
        events = 0
        with psycopg.connect(url) as conn:
            go.wait()
            while time.perf_counter() < window_end:
                began = time.perf_counter()
                with conn.cursor() as cursor:
                    if technique.before_insert:
                        cursor.execute(technique.before_insert)
                    cursor.execute(insert, (number, rng.choice((1, 2))))
                    sequences = [row[0] for row in cursor.fetchall()]
                time.sleep(rng.uniform(*THINK_SECONDS))
                committing = time.perf_counter()
                conn.commit()
                ended = time.perf_counter()
                for sequence in sequences:
                    committed_at[sequence] = ended
                latencies.append(ended - began)
                commit_latencies.append(ended - committing)
                if ended <= window_end:
                    events += len(sequences)
        with lock:
            result.latencies.extend(latencies)
            result.commit_latencies.extend(commit_latencies)
            result.events += events

    position: tuple[Any, ...] = technique.start

    def follow() -> None:
        nonlocal position
        with psycopg.connect(url, autocommit=True) as conn:
            go.wait()
            caught_up_by = 0.0
            while True:
                finished = writers_done.is_set()
                rows = conn.execute(technique.read, position).fetchall()
                now = time.perf_counter()
                for row in rows:
                    if row[0] in seen_at:
                        result.duplicates += 1
                    else:
                        seen_at[row[0]] = now
                if rows:
                    position = tuple(rows[-1][1:])
                    continue
                if finished:
                    # Every writer has committed and a read found nothing more: the reader is
                    # at the end, unless B's horizon is still held back by a transaction
                    # elsewhere in the cluster; give that a few seconds.
                    if technique.key != "B" or len(seen_at) >= len(committed_at):
                        return
                    caught_up_by = caught_up_by or now + CATCH_UP_SECONDS
                    if now > caught_up_by:
                        return
                time.sleep(0.001)

    errors = result.errors
    threads = [
        threading.Thread(target=guarded(errors, lambda n=n: write(n)), name=f"writer-{n}")
        for n in range(WRITERS)
    ]
    reader = threading.Thread(target=guarded(errors, follow), name="reader")
    for thread in [*threads, reader]:
        thread.start()
    try:
        go.wait(timeout=30)
    except threading.BrokenBarrierError:
        errors.append("the writers and the reader did not all connect in 30 s")
    for thread in threads:
        thread.join()
    writers_done.set()
    reader.join()
    if errors:
        raise RuntimeError(f"technique {technique.key}: {errors[0]}")

    result.committed = len(committed_at)
    result.lags = [
        max(0.0, seen_at[sequence] - committed_at[sequence])
        for sequence in seen_at
        if sequence in committed_at
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(technique.keys).fetchall()
    for row in rows:
        if row[0] in seen_at:
            continue
        if tuple(row[1:]) <= position:
            result.skipped += 1
        else:
            result.unread += 1
    return result


def window_for(cfg: BenchConfig, turns_left: int) -> float:
    """As long as the deadline allows for the turns to come, within the bounds."""
    per_turn = (cfg.time_left() - 5) / max(1, turns_left) - TURN_OVERHEAD
    return max(SHORTEST_WINDOW, min(LONGEST_WINDOW, per_turn))


def main() -> None:
    cfg = BenchConfig()
    url = cfg.database_url
    techniques = _techniques()
    create_tables(url, techniques)
    samples: dict[str, dict[str, list[float]]] = {
        technique.key: {
            name: []
            for name in (
                "rate",
                "p50",
                "p99",
                "commit_p50",
                "commit_p99",
                "lag_p50",
                "lag_p99",
                "skipped",
            )
        }
        for technique in techniques
    }
    totals = {
        technique.key: {"committed": 0, "duplicates": 0, "unread": 0} for technique in techniques
    }
    try:
        for technique in techniques:  # warm-up: connections, plans, the trigger's function
            turn(url, technique, WARM_UP_WINDOW, seed=0)
        runs = Runs(cfg)
        windows: list[float] = []
        for run in runs:
            window = window_for(cfg, len(techniques) * (cfg.runs - run))
            windows.append(window)
            shift = run % len(techniques)
            order = techniques[shift:] + techniques[:shift]
            line = []
            for technique in order:
                measured = turn(url, technique, window, seed=run + 1)
                into = samples[technique.key]
                into["rate"].append(measured.rate)
                into["p50"].append(1000 * percentile(measured.latencies, 0.5))
                into["p99"].append(1000 * percentile(measured.latencies, 0.99))
                into["commit_p50"].append(1000 * percentile(measured.commit_latencies, 0.5))
                into["commit_p99"].append(1000 * percentile(measured.commit_latencies, 0.99))
                into["lag_p50"].append(1000 * percentile(measured.lags, 0.5))
                into["lag_p99"].append(1000 * percentile(measured.lags, 0.99))
                into["skipped"].append(float(measured.skipped))
                totals[technique.key]["committed"] += measured.committed
                totals[technique.key]["duplicates"] += measured.duplicates
                totals[technique.key]["unread"] += measured.unread
                line.append(f"{technique.key} {measured.rate:.0f}/s skipped {measured.skipped}")
            print(f"  run {run + 1}/{cfg.runs} ({window:.1f} s each): {', '.join(line)}")
    finally:
        drop_tables(url, techniques)

    baseline = samples["D"]["rate"]
    load = (
        f"{WRITERS} writers, 1-2 rows and 0-2 ms inside each transaction, one reader polling; "
        f"window of {min(windows):.1f}-{max(windows):.1f} s per technique and run"
    )
    rows: list[Row] = []
    for index, technique in enumerate(techniques):
        got = samples[technique.key]
        total = totals[technique.key]
        number = 6 * index
        faults = []
        if total["duplicates"]:
            faults.append(f"events read twice: {total['duplicates']}")
        if total["unread"]:
            faults.append(f"events not read by the end: {total['unread']}")
        rows += [
            Row(
                figure=f"7.{number + 1}",
                name=f"log order {technique.title}: committed events/s",
                unit="events/s",
                samples=got["rate"],
                compare_label="D insert order (baseline)" if technique.key != "D" else "",
                compare_samples=baseline if technique.key != "D" else [],
                note=join(load, runs.note()) if index == 0 else "",
            ),
            Row(
                figure=f"7.{number + 2}",
                name=f"log order {technique.title}: transaction latency p50, ms",
                unit="ms",
                samples=got["p50"],
                compare_label="the COMMIT alone",
                compare_samples=got["commit_p50"],
            ),
            Row(
                figure=f"7.{number + 3}",
                name=f"log order {technique.title}: transaction latency p99, ms",
                unit="ms",
                samples=got["p99"],
                compare_label="the COMMIT alone",
                compare_samples=got["commit_p99"],
            ),
            Row(
                figure=f"7.{number + 4}",
                name=f"log order {technique.title}: reader lag p50, ms",
                unit="ms",
                samples=got["lag_p50"],
            ),
            Row(
                figure=f"7.{number + 5}",
                name=f"log order {technique.title}: reader lag p99, ms",
                unit="ms",
                samples=got["lag_p99"],
            ),
            Row(
                figure=f"7.{number + 6}",
                name=f"log order {technique.title}: events the reader skipped",
                unit="events",
                samples=got["skipped"],
                note=join(
                    f"{total['committed']:,} events committed over the runs",
                    "must be 0"
                    if technique.key != "D"
                    else f"reading by insert order skips "
                    f"{100 * sum(got['skipped']) / max(1, total['committed']):.1f}% of the events",
                    *faults,
                ),
            ),
        ]
    emit(*rows)
    wrong = [
        key
        for key, got in samples.items()
        if key != "D" and (any(got["skipped"]) or totals[key]["duplicates"])
    ]
    if wrong:
        raise SystemExit(f"techniques {', '.join(wrong)} skipped or repeated events")


if __name__ == "__main__":
    main()
