"""Splitting a SQL file into the statements Spark runs one at a time."""

from rft_dagster.sql_statements import Statement, split_statements


def test_statements_split_at_semicolons_with_their_line():
    text = "SELECT 1;\n\nSELECT 2;\nSHOW TABLES IN rft\n"
    assert split_statements(text) == [
        Statement("SELECT 1", 1), Statement("SELECT 2", 3), Statement("SHOW TABLES IN rft", 4),
    ]


def test_a_semicolon_in_a_string_a_quoted_name_or_a_comment_ends_nothing():
    text = "SELECT ';' AS `a;b`, \"x;y\" -- no; split\nFROM t /* nor; /* nested; */ here; */ WHERE s = 'it\\'s;'"
    (only,) = split_statements(text)
    assert only.text == text


def test_doubled_quotes_stay_inside_the_string():
    assert [s.text for s in split_statements("SELECT 'a'';b'; SELECT 2")] == ["SELECT 'a'';b'", "SELECT 2"]


def test_empty_statements_and_trailing_comments_are_dropped():
    text = ";;\n-- the report\nSELECT 1;\n  ;\n/* done */\n-- bye"
    assert split_statements(text) == [Statement("SELECT 1", 3)]


def test_a_statement_starts_at_its_first_token_and_keeps_its_inner_comments():
    text = "SELECT 1;\n-- per model\nSELECT model, -- the key\n  count(*) FROM t"
    assert split_statements(text)[1] == Statement("SELECT model, -- the key\n  count(*) FROM t", 3)


def test_an_unterminated_string_is_left_for_spark_to_report():
    assert [s.text for s in split_statements("SELECT 'oops; SELECT 2")] == ["SELECT 'oops; SELECT 2"]
