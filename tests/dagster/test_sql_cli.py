"""`rft sql` and `rft tables` on the session's real lakehouse (the CLI as a thin Spark Connect client)."""

import os
import subprocess
import sys

import pytest

from rft.home import PROJECT_ROOT
from rft_dagster.cli import main
from spark_jobs.schemas import ALL_TABLES


@pytest.fixture
def cli_env(spark_resource, lake, tmp_path, monkeypatch):  # lake: the server is up
    monkeypatch.setenv("RFT_SPARK_REMOTE", spark_resource.server_config().url)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}


def rft(*args, home):
    return main(["--home", str(home), *args])


def test_a_query_prints_a_readable_table_cut_to_the_limit(cli_env, tmp_path, capsys):
    assert rft("sql", "SELECT id, repeat('x', 200) AS long, CAST(NULL AS INT) AS missing FROM range(8)",
               "--limit", "3", home=tmp_path) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    cells = [[c.strip() for c in line.split("|")[1:-1]] for line in lines[:5]]
    assert cells[0] == ["id", "long", "missing"]
    assert cells[2][0] == "0" and cells[2][1] == "x" * 59 + "…" and cells[2][2] == "NULL"
    assert [row[0] for row in cells[2:5]] == ["0", "1", "2"]
    assert lines[5] == "(first 3 rows; --limit N shows more, --limit 0 all)" and len(lines) == 6


def test_a_file_runs_every_statement_in_order(cli_env, tmp_path, capsys):
    script = tmp_path / "checks.sql"
    script.write_text(
        "-- numbers to count\n"
        "CREATE OR REPLACE TEMPORARY VIEW sql_cli_numbers AS SELECT id FROM range(5);\n"
        "SELECT count(*) AS n FROM sql_cli_numbers;  -- five\n"
        "SELECT ';' AS semicolon\n"
    )
    assert rft("sql", "-f", str(script), home=tmp_path) == 0
    out = capsys.readouterr().out
    assert "-- [1/3] CREATE OR REPLACE TEMPORARY VIEW" in out and "OK" in out
    assert "|   5 |" in out and "| ;           |" in out


def test_time_travel_from_sql_and_every_table_with_its_version(cli_env, spark, tmp_path, capsys):
    spark.sql("CREATE DATABASE IF NOT EXISTS sql_cli")
    spark.sql("CREATE OR REPLACE TABLE sql_cli.events (n INT) USING delta")
    spark.sql("INSERT INTO sql_cli.events VALUES (1)")
    spark.sql("INSERT INTO sql_cli.events VALUES (2), (3)")
    try:
        assert rft("sql", "SELECT count(*) AS n FROM sql_cli.events VERSION AS OF 1", "--format", "csv",
                   home=tmp_path) == 0
        assert capsys.readouterr().out.splitlines() == ["n", "1"]

        assert rft("tables", home=tmp_path) == 0
        rows = {cells[0]: cells for cells in (
            [c.strip() for c in line.split("|")[1:-1]] for line in capsys.readouterr().out.splitlines()[2:]
        )}
        assert rows["sql_cli.events"][:3] == ["sql_cli.events", "3", "2"]  # rows, Delta version
        assert rows["sql_cli.events"][4] == "WRITE" and len(rows["sql_cli.events"][3]) == len("2026-11-27 14:33:54")
        for table in ALL_TABLES:
            name, n, version, _, _, row_is = rows[table.qualified]
            assert int(n) == spark.table(table.qualified).count() and int(version) >= 0 and row_is == table.row
    finally:
        spark.sql("DROP DATABASE sql_cli CASCADE")


def test_an_unknown_table_is_one_plain_message_without_a_java_stack_trace(cli_env, tmp_path):
    # A separate process: pyspark logs failed queries with the server's stack trace to the
    # stderr it found at start, which this test's capture would not see.
    unknown = subprocess.run(
        [sys.executable, "-m", "rft_dagster.cli", "--home", str(tmp_path), "sql", "SELECT * FROM rft.sampled_path"],
        env=cli_env, capture_output=True, text=True, timeout=300,
    )
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.startswith("rft sql: unknown table or view rft.sampled_path\n")
    assert "did you mean rft.sampled_paths?" in unknown.stderr
    assert "JVM" not in unknown.stderr and "org.apache" not in unknown.stderr
    assert len(unknown.stderr.splitlines()) < 8  # message, statement, pointer, the tables there are


def test_a_syntax_error_names_the_statement_and_points_at_it(cli_env, tmp_path, capsys):
    script = tmp_path / "typo.sql"
    script.write_text("SELECT 1;\n\nSELECT * FROM rft.questions WHERE );\nSELECT 2\n")
    assert rft("sql", "-f", str(script), home=tmp_path) == 1
    out, err = capsys.readouterr()
    assert "|   1 |" in out and "|   2 |" not in out  # the first statement ran, the third did not
    assert err.startswith("rft sql: statement 2, from line 3: [PARSE_SYNTAX_ERROR] Syntax error at or near ')'")
    assert "JVM" not in err


def test_sql_needs_exactly_one_query_source(tmp_path, capsys):
    assert rft("sql", home=tmp_path) == 2
    assert "give one query, or -f FILE" in capsys.readouterr().err


def test_sql_is_read_only_unless_told_and_a_project_table_is_dropped_only_when_confirmed(cli_env, spark, tmp_path,
                                                                                         capsys):
    spark.sql("CREATE OR REPLACE TABLE rft.sql_guard_scratch (n INT) USING delta")
    spark.sql("INSERT INTO rft.sql_guard_scratch VALUES (1), (2), (3)")
    try:
        assert rft("sql", "SELECT 1; /* hi */ dRoP TABLE rft.sql_guard_scratch", home=tmp_path) == 1
        out, err = capsys.readouterr()
        assert out == ""  # refused before the first statement ran
        assert err.startswith("rft sql: refused, nothing was run: statement 2 (line 1) `dRoP TABLE rft.sql_guard_scratch`")
        assert err.rstrip().endswith("rft sql runs it only with --write --yes-drop-project-table")
        assert rft("sql", "--write", "DROP TABLE rft.sql_guard_scratch", home=tmp_path) == 1
        assert spark.table("rft.sql_guard_scratch").count() == 3

        assert rft("sql", "INSERT INTO rft.sql_guard_scratch VALUES (4)", home=tmp_path) == 1
        assert "rft sql runs it only with --write\n" in capsys.readouterr().err
        assert rft("sql", "--write", "INSERT INTO rft.sql_guard_scratch VALUES (4)", home=tmp_path) == 0
        assert spark.table("rft.sql_guard_scratch").count() == 4

        assert rft("sql", "--write", "--yes-drop-project-table", "DROP TABLE rft.sql_guard_scratch",
                   home=tmp_path) == 0
        assert not spark.catalog.tableExists("rft.sql_guard_scratch")
    finally:
        spark.sql("DROP TABLE IF EXISTS rft.sql_guard_scratch")
