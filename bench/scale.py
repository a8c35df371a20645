"""The scale rehearsal: the same benchmarks on two demo databases, one larger than the other (50,000 and 500,000
customers), side by side, with how each figure grows with the data.

    .venv/bin/python -m bench.scale \\
        --small postgres://postgres@127.0.0.1:5432/leme_b50 --large postgres://postgres@127.0.0.1:5432/leme_g500

Build them with ``seed_demo --customers 50000`` and ``seed_demo --customers 500000`` (the second copies the first
50,000 set-based: ``demo/grow.py``). The benchmarks read the demo as its people see it: the portfolio page, every
page of ``bench.pages`` and the search as Lucas (a CSM whose portfolio stays at 1,000 customers) and Mariana (the
leader who sees everyone), the metrics page's panels as both (``bench.metrics_page --demo``), and, first, the jobs
that count everything (``bench.nightly_jobs``: the health run and the survey tallies; the metrics' rollups and the
CS operations' tallies, minutes at 500,000, are timed on their own with ``bench.nightly_jobs --only``), whose
tallies the pages then read. Each runs
in its own process, on one database then the other, so the two figures of a row are taken minutes apart on the
same machine.

A row's growth is its large figure over its small one, read against the data's ratio (ten): *flat* (under 1.5×),
*sub-linear* (under half the data's ratio), *linear* (up to 1.5 times it) or *worse than linear*. A page that
grows linearly with the customers its reader sees is a design to change (pre-aggregation, paging), not a target to
move. Timings are medians and p95s of the runs the benchmark makes; the jobs are timed once.
"""

import argparse
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bench.all import Bench, run_one


@dataclass(frozen=True)
class Figure:
    benchmark: str
    what: str
    value: float
    unit: str


def page_figures(name: str, rows: list[dict], label) -> list[Figure]:
    figures = []
    for row in rows:
        figures.append(Figure(name, f"{label(row)}, median", row.get("median_ms", row.get("p50_ms", 0.0)), "ms"))
        figures.append(Figure(name, f"{label(row)}, p95", row["p95_ms"], "ms"))
    return figures


def portfolio_page_figures(f: dict) -> list[Figure]:
    return page_figures("portfolio_page", [f], lambda r: f"/portfolio/ as {r['user']} ({r['queries']} queries)")


def pages_figures(f: dict) -> list[Figure]:
    return page_figures("pages", f["pages"], lambda r: f"{r['url']} as {r['user']} ({r['queries']} queries)")


def search_figures(f: dict) -> list[Figure]:
    return page_figures("search", f["searches"], lambda r: f"{r['kind']} as {r['user']}")


def metrics_page_figures(f: dict) -> list[Figure]:
    return page_figures("metrics_page", f["reports"], lambda r: r["title"])


def nightly_jobs_figures(f: dict) -> list[Figure]:
    figures = []
    for job in f["jobs"]:
        figures.append(Figure("nightly_jobs", job["name"], job["seconds"], "s"))
        peak = f"{job['name']}: the process's peak memory after it"
        figures.append(Figure("nightly_jobs", peak, job["memory_mb"], "MB"))
    return figures


SCALE_BENCHMARKS = [
    Bench("nightly_jobs", lambda q, n: ["--only", "health,surveys"], nightly_jobs_figures),
    Bench("portfolio_page", lambda q, n: ["--customers", str(n), "--requests", "55"], portfolio_page_figures),
    Bench("pages", lambda q, n: ["--requests", "20"], pages_figures),
    Bench("search", lambda q, n: ["--customers", str(n), "--rounds", "5"], search_figures),
    Bench("metrics_page", lambda q, n: ["--demo", "mariana,lucas", "--requests", "14"], metrics_page_figures),
]
# The jobs run first and build every tally; the pages then read them for the whole run, as they would with the beat
# rebuilding them every ten minutes (without it, a tally older than half an hour is not read).
TALLIES_READ_FOR = str(6 * 3600)


def key(figure: Figure) -> tuple[str, str]:
    # A customer page's address names a customer of the base, the same on both databases; the query counts are
    # kept in the label (a count that grows with the data shows as two rows).
    return figure.benchmark, figure.what


def growth(small: float, large: float, data_ratio: float) -> str:
    if small <= 0:
        return "—"
    ratio = large / small
    if ratio < 1.5:
        return "flat"
    if ratio < data_ratio / 2:
        return "sub-linear"
    if ratio <= data_ratio * 1.5:
        return "linear"
    return "worse than linear"


def number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def customers_in(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM portfolio_customer WHERE external_id LIKE 'demo-%'").fetchone()[0]


def table(small: dict, large: dict, data_ratio: float) -> str:
    lines = [
        "| benchmark | what | small | large | × | growth |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in dict.fromkeys([*small, *large]):
        a, b = small.get(name), large.get(name)
        unit = (a or b).unit
        ratio = f"{b.value / a.value:.1f}" if a and b and a.value > 0 else "—"
        grows = growth(a.value, b.value, data_ratio) if a and b else "—"
        lines.append(
            f"| {name[0]} | {name[1]} | {number(a.value if a else None)} {unit} | "
            f"{number(b.value if b else None)} {unit} | {ratio} | {grows} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", required=True, help="The smaller demo database (postgres:// URL).")
    parser.add_argument("--large", required=True, help="The larger demo database (postgres:// URL).")
    parser.add_argument("--only", default="", help=f"Some of: {', '.join(b.name for b in SCALE_BENCHMARKS)}.")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or [b.name for b in SCALE_BENCHMARKS]
    os.environ.setdefault("LEME_SURVEY_TALLIES_MAX_AGE", TALLIES_READ_FOR)
    os.environ.setdefault("LEME_OPERATIONS_TALLIES_MAX_AGE", TALLIES_READ_FOR)
    sizes = {url: customers_in(url) for url in (args.small, args.large)}
    data_ratio = sizes[args.large] / max(1, sizes[args.small])
    started, load_before = time.monotonic(), os.getloadavg()
    found: dict[str, dict] = {args.small: {}, args.large: {}}
    errors = []
    for bench in SCALE_BENCHMARKS:
        if bench.name not in names:
            continue
        for url in (args.small, args.large):
            for row in run_one(bench, database=url, quick=False, customers=sizes[url]):
                if isinstance(row, Figure):
                    found[url][key(row)] = row
                else:  # bench.all's failure row
                    errors.append(f"{bench.name} on {urlsplit(url).path.lstrip('/')}: {row.error}")
    print(
        f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; small: {urlsplit(args.small).path.lstrip('/')} "
        f"({sizes[args.small]:,} demo customers), large: {urlsplit(args.large).path.lstrip('/')} "
        f"({sizes[args.large]:,}), {data_ratio:.1f}× the data; {time.monotonic() - started:.0f} s; load average "
        f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs\n"
    )
    print(table(found[args.small], found[args.large], data_ratio))
    for error in errors:
        print(f"failed: {error}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
