"""`rft sql` is read-only unless told: which statements run as they are, which need --write, which more."""

import pytest

from rft_dagster.sql_guard import DESTROY, READ, WRITE, classify, refusal, tokens

READS = [
    "SELECT model, count(*) FROM rft.verified_paths GROUP BY model",
    "  ((SELECT 1))",
    "WITH x AS (SELECT 1 AS n) SELECT n FROM x",
    "VALUES (1, 'a'), (2, 'b')",
    "TABLE rft.questions",
    "FROM rft.questions SELECT question_id",
    "SELECT count(*) FROM rft.distinct_paths VERSION AS OF 2 WHERE pool = 'union'",
    "SELECT * FROM rft.models TIMESTAMP AS OF '2026-01-01'",
    "select 'drop table' as s",
    "SELECT \"DELETE FROM rft.questions\" AS quoted, `drop` FROM t",
    "SELECT replace(text, 'a', 'b') FROM rft.sampled_paths",
    "SELECT 1 -- DROP TABLE rft.questions",
    "SELECT /* DELETE /* nested */ still a comment */ 1",
    "SELECT 'it\\'s; DROP TABLE rft.questions' AS s",
    "SELECT r'\\' AS backslash",
    "SHOW TABLES IN rft",
    "SHOW CREATE TABLE rft.questions",
    "DESCRIBE HISTORY rft.sampled_paths",
    "desc rft.questions",
    "DESCRIBE DETAIL rft.questions",
    "EXPLAIN EXTENDED SELECT * FROM rft.questions",
    "USE rft",
    "SET spark.sql.shuffle.partitions",
    "CREATE OR REPLACE TEMPORARY VIEW numbers AS SELECT id FROM range(5)",
    "create temp view v as select 1",
]

WRITES = [
    "INSERT INTO scratch.t VALUES (1)",
    "-- x\nDELETE FROM rft.questions WHERE split = 'test'",
    "UPDATE rft.models SET final_loss = 0",
    "MERGE INTO rft.models m USING src s ON m.model = s.model WHEN MATCHED THEN DELETE",
    "WITH x AS (SELECT 1) INSERT INTO rft.questions SELECT * FROM x",
    "FROM rft.questions INSERT INTO scratch.t SELECT *",
    "(INSERT INTO scratch.t VALUES (1))",
    "INSERT OVERWRITE rft.questions SELECT * FROM rft.questions LIMIT 0",
    "CREATE TABLE scratch.t (n INT) USING delta",
    "CREATE GLOBAL TEMPORARY VIEW g AS SELECT 1",
    "CREATE TEMP VIEW v AS SELECT 1; CREATE TABLE rft.x AS SELECT 1",
    "ALTER TABLE rft.questions ADD COLUMNS (note STRING)",
    "OPTIMIZE rft.sampled_paths",
    "RESTORE TABLE rft.questions TO VERSION AS OF 1",
    "CACHE TABLE rft.questions",
    "UNCACHE TABLE rft.questions",
    "REFRESH TABLE rft.questions",
    "SET spark.databricks.delta.retentionDurationCheck.enabled = false",
    "EXPLAIN INSERT INTO scratch.t VALUES (1)",
    "DROP TABLE scratch.t",
    "DROP VIEW v",
    "VACUUM scratch.t",
    "SELECT 'unterminated",
]

DESTROYS = [
    "/* hi */ dRoP TABLE rft.distinct_paths",
    "DROP TABLE IF EXISTS `rft`.`questions`",
    "drop table spark_catalog.rft.questions",
    "SELECT 1; DROP TABLE rft.questions",
    "USE rft; DROP TABLE questions",
    "DROP DATABASE rft CASCADE",
    "DROP SCHEMA IF EXISTS rft",
    "TRUNCATE TABLE rft.sampled_paths",
    "VACUUM rft.sampled_paths RETAIN 0 HOURS",
    "VACUUM delta.`/home/x/warehouse/rft.db/sampled_paths`",
    "VACUUM '/home/x/warehouse/rft.db/sampled_paths'",
    "REPLACE TABLE rft.questions (n INT) USING delta",
    "CREATE OR REPLACE TABLE rft.questions AS SELECT 1 AS n",
    "ALTER TABLE rft.questions RENAME TO default.old_questions",
    "ALTER TABLE rft.models DROP COLUMN final_loss",
    "EXPLAIN DROP TABLE rft.questions",
    "EXECUTE IMMEDIATE 'DROP TABLE rft.questions'",
    "BEGIN DROP TABLE rft.questions",
]


def kinds(text, **kwargs):
    return [v.kind for v in classify(text, **kwargs)]


@pytest.mark.parametrize("text", READS)
def test_reads_run_without_a_flag(text):
    assert set(kinds(text)) == {READ}
    assert refusal(classify(text), write=False, drop_project_tables=False) is None


@pytest.mark.parametrize("text", WRITES)
def test_writes_need_write(text):
    assert WRITE in kinds(text) and DESTROY not in kinds(text)
    assert "--write" in refusal(classify(text), write=False, drop_project_tables=False)
    assert refusal(classify(text), write=True, drop_project_tables=False) is None


@pytest.mark.parametrize("text", DESTROYS)
def test_destroying_a_project_table_needs_write_and_the_confirmation(text):
    assert DESTROY in kinds(text)
    for write, drop in ((False, False), (True, False), (False, True)):
        assert "only with --write --yes-drop-project-table" in refusal(classify(text), write=write,
                                                                       drop_project_tables=drop)
    assert refusal(classify(text), write=True, drop_project_tables=True) is None


def test_an_unqualified_name_is_a_project_table_only_where_rft_is_the_current_database():
    assert kinds("DROP TABLE questions") == [WRITE]
    assert kinds("DROP TABLE questions", current_database="rft") == [DESTROY]
    assert kinds("USE DATABASE rft; DROP TABLE questions; USE scratch; DROP TABLE questions") == [
        READ, DESTROY, READ, WRITE]


def test_the_refusal_names_the_statement_and_the_flags_it_needs():
    text = "SELECT 1;\n-- now the damage\n/* hi */ dRoP TABLE rft.distinct_paths"
    assert refusal(classify(text), write=True, drop_project_tables=False) == (
        "refused, nothing was run: statement 2 (line 3) `dRoP TABLE rft.distinct_paths` deletes or replaces "
        "the project table rft.distinct_paths, with its files or history; "
        "rft sql runs it only with --write --yes-drop-project-table")
    assert refusal(classify("INSERT INTO t VALUES (1)"), write=False, drop_project_tables=False) == (
        "refused, nothing was run: the statement `INSERT INTO t VALUES (1)` changes data, schema or the "
        "server's state; rft sql runs it only with --write")


def test_an_unknown_first_word_is_refused_and_called_a_possible_typo():
    message = refusal(classify("SELEC * FROM rft.questions"), write=True, drop_project_tables=False)
    assert "starts with SELEC, which rft sql does not know: a typo, or a statement that may run any other" in message


def test_tokens_drop_comments_and_strings_and_keep_quoted_names():
    assert tokens("/* a /* b */ c */ sElEcT 'x;y' AS `drop` -- z") == ["SELECT", "'", "AS", "`drop`"]
    assert tokens("SELECT 'open") is None
