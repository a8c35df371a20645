"""bench.all's table from given figures (the benchmarks themselves never run in the suite)."""

from bench import all as bench_all


def test_the_table_shows_figure_floor_ratio_target_and_whether_it_is_met():
    rows = bench_all.survey_send_rows({"emails": 1000, "leme_s": [2.0, 2.0], "smtplib_s": [1.0, 1.0]})
    rows += bench_all.pages_rows(
        {"pages": [{"user": "mariana", "url": "/uti/", "median_ms": 90.0, "p95_ms": 132.4, "queries": 12}]}
    )
    rows.append(bench_all.Row("search", "", error="answered 500\nat /search/ | twice"))

    lines = bench_all.format_table(rows).splitlines()

    assert lines[0] == "| benchmark | what | figure | floor | ratio | target | met |"
    assert lines[2] == (
        "| survey_send | 1,000 emails × 2 turns: Leme vs smtplib | 500 emails/s | 1,000 emails/s | 0.50 "
        "| ≥ 1.0× floor | no |"
    )
    assert lines[3] == "| pages | /uti/ as mariana, p95 (12 queries) | 132 ms | — | — | < 150 ms | yes |"
    assert lines[4] == "| search |  | failed: answered 500 at /search/ / twice | — | — | — | no |"
    assert len(lines) == 5


def test_a_benchmark_without_a_floor_or_target_leaves_them_blank():
    row = bench_all.survey_answers_rows({"posts_per_s": 61.25, "problems": 0})[0]

    assert row.ratio is None
    assert row.met is None
    assert bench_all.format_table([row]).splitlines()[2] == (
        "| survey_answers | answer POSTs with their GETs (no floor measured yet) | 61.2 /s | — | — | ≥ 0.5× floor | — |"
    )


def test_the_answer_flow_is_compared_with_the_floor_in_requests_per_second():
    figures = {"posts_per_s": 61.25, "requests_per_s": 140.0, "floor_per_s": 400.0, "problems": 0}

    lines = bench_all.format_table(bench_all.survey_answers_rows(figures)).splitlines()

    assert lines[2] == (
        "| survey_answers | answer flow, GET + POST (floor: a constant 'ok' view) | 140 req/s | 400 req/s | 0.35 "
        "| ≥ 0.5× floor | no |"
    )
    assert lines[3] == "| survey_answers | answer POSTs with their GETs | 61.2 /s | — | — | — | — |"
    assert lines[4] == "| survey_answers | answers lost, doubled or wrong | 0 | — | — | 0 | yes |"


def test_the_nightly_health_run_is_compared_with_one_aggregate_over_the_raw_events():
    figures = {"customers": 2000, "events": 200_000, "aggregate_s": 0.8, "nightly_s": 3.2, "queries": 24}
    figures["scored"] = 2000

    row = bench_all.health_nightly_rows(figures)[0]

    assert row.ratio == 4.0
    assert row.met is False
    assert bench_all.format_table([row]).splitlines()[2] == (
        "| health_nightly | nightly run (rollup + scores_recompute, 2,000 customers, 24 queries) vs one aggregate "
        "over 200,000 raw events | 3.2 s | 0.8 s | 4.00 | ≤ 1.0× floor | no |"
    )
