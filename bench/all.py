"""One table, one run: every benchmark in ``bench/`` in sequence on one database. See bench/README.md.

    .venv/bin/python -m bench.all --quick                        # a smoke run: 2,000 demo customers, few requests
    .venv/bin/python -m bench.all --only pages,search           # some of them (names as in bench/)
    .venv/bin/python -m bench.all --database postgres://postgres@127.0.0.1:5432/leme_bench   # 50,000 customers

Each benchmark runs in its own Python process (``python -m bench.all --child NAME``), as it would alone: some
configure Django from the environment before ``django.setup()`` (the SMTP sink's address, the gunicorn
settings), and one failing (an exception, an assertion, a crash) must not stop the others. The child calls the
module's ``main()`` with a ``figures`` dict that ``main()`` fills beside what it prints as before, and hands the
dict back as JSON; this script turns each dict into rows of one table: the figure, the floor measured in the same
run where the benchmark has one (plain smtplib for the survey emails, COPY for the usage events, one aggregate over
the raw usage events for the nightly health run, the smallest Django view for the survey answers), the ratio, the
target and whether it is met. A benchmark that fails gets a row saying so, with its error.

The benchmarks that read the demo data (pages, portfolio, search, metrics, playbooks, health, the demo's usage)
share the one database (``--database``, by default ``TEST_DATABASE_URL``), which ``bench.portfolio_page`` builds
first with ``--customers`` demo customers if they are not there yet. The three that drop and re-create their
own scratch database (survey emails, survey answers, usage events: they check exact counts, so they need an empty
one) get one named after it (``<name>_bench_send``, ``<name>_bench_usage``, ``<name>_bench_answers``),
dropped when they end; the nightly health run builds its raw events in ``<name>_bench_nightly``, also dropped.
Not a test: pytest never collects it (``testpaths = ["tests"]``).
"""

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/leme_bench"
PAGE_TARGET_MS = 150.0  # issue 13: every page p95 under 150 ms
SEND_TARGET = 1.0  # survey emails at least as fast as plain smtplib
ANSWER_TARGET = 0.5  # answers at half the smallest Django view's rate
NIGHTLY_TARGET = 1.0  # issue 11: the nightly health run no slower than one aggregate over the raw events


@dataclass(frozen=True)
class Row:
    """One line of the table. ``met`` is None where the benchmark has no target."""

    benchmark: str
    what: str
    figure: float | None = None
    unit: str = ""
    floor: float | None = None
    target: str = ""
    met: bool | None = None
    error: str = ""

    @property
    def ratio(self) -> float | None:
        if self.figure is None or not self.floor:
            return None
        return self.figure / self.floor


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.1f}" if abs(value) < 100 and value != int(value) else f"{value:,.0f}"
    return f"{text} {unit}".strip()


def format_table(rows: list[Row]) -> str:
    """The rows as a Markdown table (what the README shows): figure, floor, ratio, target, met."""
    lines = [
        "| benchmark | what | figure | floor | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        if row.error:
            error = " ".join(row.error.split())
            error = error if len(error) <= 160 else error[:159] + "…"
            lines.append(f"| {row.benchmark} | {row.what} | failed: {error.replace('|', '/')} | — | — | — | no |")
            continue
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}"
        met = {True: "yes", False: "no", None: "—"}[row.met]
        lines.append(
            f"| {row.benchmark} | {row.what} | {number(row.figure, row.unit)} | {number(row.floor, row.unit)} | "
            f"{ratio} | {row.target or '—'} | {met} |"
        )
    return "\n".join(lines)


# --- Figures into rows, one function per benchmark ---------------------------------------------------------------


def below(figure: float, limit: float) -> bool:
    return figure < limit


def portfolio_page_rows(f: dict) -> list[Row]:
    what = f"/portfolio/ as {f['user']}, p95 ({f['queries']} queries)"
    return [
        Row("portfolio_page", what, f["p95_ms"], "ms", None, f"< {f['target_ms']:.0f} ms", f["p95_ms"] < f["target_ms"])
    ]


def pages_rows(f: dict) -> list[Row]:
    return [
        Row(
            "pages",
            f"{p['url']} as {p['user']}, p95 ({p['queries']} queries)",
            p["p95_ms"],
            "ms",
            None,
            f"< {PAGE_TARGET_MS:.0f} ms",
            below(p["p95_ms"], PAGE_TARGET_MS),
        )
        for p in f["pages"]
    ] + [
        Row(
            "pages",
            f"the interpreter's full collections while timing: {c['count']}, the longest",
            c["longest_ms"],
            "ms",
        )
        for c in f.get("full_collections", [])
    ]


def search_rows(f: dict) -> list[Row]:
    return [
        Row(
            "search",
            f"{s['kind']} as {s['user']}, p95",
            s["p95_ms"],
            "ms",
            None,
            f"< {s['target_ms']:.0f} ms",
            below(s["p95_ms"], s["target_ms"]),
        )
        for s in f["searches"]
    ]


def metrics_page_rows(f: dict) -> list[Row]:
    rows = (
        [Row("metrics_page", "metrics_rebuild (periods and cohort cells)", f["rebuild_s"], "s")]
        if "rebuild_s" in f
        else []
    )
    if "ops_tallies_s" in f:
        rows.append(Row("metrics_page", "CS operations tallies rebuilt (the beat's job)", f["ops_tallies_s"], "s"))
    rows += [
        Row(
            "metrics_page",
            f"{r['title']}, p95",
            r["p95_ms"],
            "ms",
            None,
            f"< {r['target_ms']:.0f} ms",
            below(r["p95_ms"], r["target_ms"]),
        )
        for r in f["reports"]
    ]
    return rows


def playbooks_daily_rows(f: dict) -> list[Row]:
    return [
        Row("playbooks_daily", f"daily date check, {f['enrolled']:,} enrolled", f["check_ms"], "ms"),
        Row("playbooks_daily", f"advance of due steps ({f['steps']:,} steps)", f["steps_per_s"], "steps/s"),
        Row(
            "playbooks_daily",
            "daily check again: enrolled",
            f["again_enrolled"],
            "",
            None,
            "0",
            f["again_enrolled"] == 0,
        ),
    ]


def health_recompute_rows(f: dict) -> list[Row]:
    return [
        Row(
            "health_recompute",
            f"scores_recompute, {label} ({r['scored']:,} customers, {r['queries']} queries)",
            r["seconds"],
            "s",
        )
        for label, r in f.items()
    ]


def usage_ingest_rows(f: dict) -> list[Row]:
    return [
        Row("usage_ingest", f"{f['events']:,} events: API vs COPY", f["api_per_s"], "events/s", f["copy_per_s"]),
        Row("usage_ingest", f"rollup of the day ({f['rollup_rows']:,} customer-days), rerun", f["rollup_ms"][-1], "ms"),
    ]


def health_nightly_rows(f: dict) -> list[Row]:
    what = (
        f"nightly run (rollup + scores_recompute, {f['scored']:,} customers, {f['queries']} queries) vs one "
        f"aggregate over {f['events']:,} raw events"
    )
    target = f"≤ {NIGHTLY_TARGET:.1f}× floor"
    return [
        Row("health_nightly", what, f["nightly_s"], "s", f["aggregate_s"], target, f["nightly_s"] <= f["aggregate_s"])
    ]


def survey_send_rows(f: dict) -> list[Row]:
    turns = len(f["leme_s"])  # Leme and smtplib take turns, each sending every email once a turn
    leme, plain = turns * f["emails"] / sum(f["leme_s"]), turns * f["emails"] / sum(f["smtplib_s"])
    target = f"≥ {SEND_TARGET:.1f}× floor"
    return [
        Row(
            "survey_send",
            f"{f['emails']:,} emails × {turns} turns: Leme vs smtplib",
            leme,
            "emails/s",
            plain,
            target,
            leme / plain >= SEND_TARGET,
        )
    ]


def survey_answers_rows(f: dict) -> list[Row]:
    # The floor: the smallest Django view, served and driven as the flow is, in the same run (requests per second).
    floor, target = f.get("floor_per_s"), f"≥ {ANSWER_TARGET:.1f}× floor"
    posts = "answer POSTs with their GETs"
    if floor:
        flow = f["requests_per_s"]
        what = "answer flow, GET + POST (floor: a constant 'ok' view)"
        rows = [Row("survey_answers", what, flow, "req/s", floor, target, flow / floor >= ANSWER_TARGET)]
        rows.append(Row("survey_answers", posts, f["posts_per_s"], "/s"))
    else:
        rows = [Row("survey_answers", f"{posts} (no floor measured yet)", f["posts_per_s"], "/s", None, target)]
    return [
        *rows,
        Row("survey_answers", "answers lost, doubled or wrong", f["problems"], "", None, "0", f["problems"] == 0),
    ]


def demo_usage_rows(f: dict) -> list[Row]:
    what = f"seed_usage, {f['customers']:,} customers ({f['rows']:,} rows in {f['seconds']:.0f} s)"
    return [Row("demo_usage", what, f["rows"] / f["seconds"], "rows/s")]


@dataclass(frozen=True)
class Bench:
    name: str
    argv: Callable[[bool, int], list[str]]  # (quick, customers) -> the module's arguments
    rows: Callable[[dict], list[Row]]
    scratch: str = ""  # the suffix of its own scratch database, when it drops and re-creates one


def _n(value: int) -> str:
    return str(value)


# In the order they run: the pages read the demo data before the others add their own customers to it.
BENCHMARKS = [
    Bench(
        "portfolio_page", lambda q, n: ["--customers", _n(n), "--requests", "22" if q else "55"], portfolio_page_rows
    ),
    Bench("pages", lambda q, n: ["--requests", "5" if q else "20"], pages_rows),
    Bench("search", lambda q, n: ["--customers", _n(n), "--rounds", "1" if q else "5"], search_rows),
    Bench("metrics_page", lambda q, n: ["--customers", _n(n), "--requests", "14" if q else "40"], metrics_page_rows),
    Bench(
        "playbooks_daily", lambda q, n: ["--customers", _n(n), "--runs", "50" if q else "1000"], playbooks_daily_rows
    ),
    Bench("health_recompute", lambda q, n: ["--customers", _n(min(n, 20_000))], health_recompute_rows),
    Bench(
        "usage_ingest",
        lambda q, n: ["--events", "5000", "--customers", "50"] if q else [],
        usage_ingest_rows,
        "_bench_usage",
    ),
    Bench(
        "health_nightly",
        lambda q, n: ["--quick"] if q else ["--customers", _n(n)],
        health_nightly_rows,
        "_bench_nightly",
    ),
    Bench("survey_send", lambda q, n: ["--emails", "1000"] if q else [], survey_send_rows, "_bench_send"),
    Bench(
        "survey_answers",
        lambda q, n: ["--deliveries", "300", "--threads", "4", "--workers", "2"] if q else [],
        survey_answers_rows,
        "_bench_answers",
    ),
    Bench("demo_usage", lambda q, n: ["--customers", _n(n)], demo_usage_rows),
]
BY_NAME = {bench.name: bench for bench in BENCHMARKS}


# --- Running ------------------------------------------------------------------------------------------------------


def child(name: str, argv: list[str], out: Path) -> int:
    """In the child process: run one benchmark's ``main()`` and write its figures (or its error) to ``out``."""
    import importlib

    sys.argv = [f"bench.{name}", *argv]  # the modules whose main() reads sys.argv
    result: dict = {"figures": {}}
    try:
        module = importlib.import_module(f"bench.{name}")
        takes_argv = "argv" in inspect.signature(module.main).parameters
        code = module.main(argv, figures=result["figures"]) if takes_argv else module.main(figures=result["figures"])
        result["exit"] = code or 0
    except SystemExit as exc:  # a benchmark's own stop: a code (a missed target) or a message (an error)
        result["exit"] = exc.code
        if exc.code is not None and not isinstance(exc.code, int):
            result["error"] = str(exc.code)
    except BaseException as exc:  # reported in the table, the other benchmarks go on
        traceback.print_exc()
        result["error"] = f"{type(exc).__name__}: {exc}"
    out.write_text(json.dumps(result, default=str))
    return 0


def with_database(url: str, suffix: str) -> str:
    parts = urlsplit(url)
    return parts._replace(path=f"{parts.path}{suffix}").geturl()


def drop_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def run_one(bench: Bench, *, database: str, quick: bool, customers: int) -> list[Row]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "TEST_DATABASE_URL": database}
    scratch = with_database(database, bench.scratch) if bench.scratch else ""
    if bench.name == "survey_answers":
        env["LEME_BENCH_ANSWERS_DATABASE"] = urlsplit(scratch).path.lstrip("/")
    elif scratch:
        env["TEST_DATABASE_URL"] = scratch
    argv = bench.argv(quick, customers)
    print(f"\n===== {bench.name} {' '.join(argv)}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "figures.json"
        started = time.monotonic()
        command = [sys.executable, "-m", "bench.all", "--child", bench.name, "--out", str(out), "--", *argv]
        process = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603 - our own script
        print(f"===== {bench.name}: {time.monotonic() - started:.0f} s", flush=True)
        result = json.loads(out.read_text()) if out.exists() else {"error": f"exited with {process.returncode}"}
    if scratch and bench.name != "survey_answers":
        try:
            drop_database(scratch)
        except Exception as exc:  # a scratch database left behind is not worth stopping for
            print(f"could not drop {scratch}: {exc}")
    if result.get("error"):
        return [Row(bench.name, "", error=result["error"])]
    try:
        return bench.rows(result["figures"])
    except Exception as exc:  # figures missing: the benchmark stopped early
        return [Row(bench.name, "", error=f"no figures ({type(exc).__name__}: {exc}); exit {result.get('exit')}")]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Few requests on a small database (a smoke run).")
    parser.add_argument("--only", default="", help=f"Comma-separated names among: {', '.join(BY_NAME)}.")
    parser.add_argument("--customers", type=int, help="Demo customers (default 50,000; 2,000 with --quick).")
    parser.add_argument("--database", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child(args.child, args.rest, args.out)
    if not args.database.startswith("postgres"):
        raise SystemExit("The benchmarks run on PostgreSQL: give --database a postgres:// URL.")
    names = [name.strip() for name in args.only.split(",") if name.strip()] or list(BY_NAME)
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    customers = args.customers or (2_000 if args.quick else 50_000)
    load_before = os.getloadavg()
    started = time.monotonic()
    rows: list[Row] = []
    for bench in BENCHMARKS:
        if bench.name in names:
            rows += run_one(bench, database=args.database, quick=args.quick, customers=customers)
    print(
        f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {urlsplit(args.database).path.lstrip('/')}, "
        f"{customers:,} demo customers{', --quick' if args.quick else ''}; {time.monotonic() - started:.0f} s; "
        "load average {:.1f} before, {:.1f} after, on {} CPUs\n".format(
            load_before[0], os.getloadavg()[0], os.cpu_count()
        )
    )
    print(format_table(rows))
    return 1 if any(row.error for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
