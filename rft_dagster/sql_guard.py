"""What `rft sql` may run without asking: reads run, writes need --write, destroying a project table more.

    verdicts = classify("SELECT 1; /* hi */ dRoP TABLE rft.distinct_paths")
    [v.kind for v in verdicts]      # ["read", "destroy"]
    refusal(verdicts, write=True, drop_project_tables=False)
    # "refused, nothing was run: statement 2 (line 1) `dRoP TABLE rft.distinct_paths` deletes ..."

Three kinds of statement:
- read: queries (SELECT, WITH ... SELECT, VALUES, TABLE, FROM ... SELECT; Delta time travel
  `VERSION AS OF` / `TIMESTAMP AS OF` included), SHOW, DESCRIBE/DESC (DESCRIBE HISTORY too),
  EXPLAIN of a read, USE, SET that only shows a setting, and CREATE [OR REPLACE] TEMP[ORARY]
  VIEW: a temporary view lives in this command's own Spark session and dies with it.
- write (needs --write): INSERT, UPDATE, DELETE, MERGE, CREATE, ALTER, OPTIMIZE, RESTORE, ...
  (DELETE and INSERT OVERWRITE of a Delta table keep the old rows in its history until a VACUUM,
  so they are writes, not destruction). Also a query that names
  a write keyword outside strings and comments (`WITH x AS (...) INSERT INTO ...`, `FROM t INSERT
  ...`), SET key=value (it can switch off Delta's safety checks for what follows), CACHE/UNCACHE
  and REFRESH (they change the server's shared cache), GLOBAL TEMP views (other sessions see them).
- destroy (needs --write and --yes-drop-project-table): DROP TABLE/VIEW, TRUNCATE, VACUUM
  (old versions' files go, and time travel to them), REPLACE TABLE / CREATE OR REPLACE, and
  ALTER TABLE ... DROP/RENAME/REPLACE of a table in the project database `rft`, or DROP DATABASE
  rft. So does any statement whose first word the guard does not know (EXECUTE IMMEDIATE runs
  SQL held in a string, which it cannot check). A name without a database counts when the current database is `rft` (a `USE rft` earlier
  in the same text included); a path (delta.`/...`, '/...') counts, since it may be one of them.

The text is read as Spark's parser does: `--` and nested `/* */` comments and string literals are
not code, so `select 'drop table'` is a read and `/* x */ DROP` is not. Anything the guard cannot
read (an unterminated string) is a write. Every statement is checked before the first one runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from rft_dagster.sql_statements import Statement, end_of_block_comment, end_of_quoted, split_statements

READ, WRITE, DESTROY = "read", "write", "destroy"
WRITE_FLAG, DROP_FLAG = "--write", "--yes-drop-project-table"

QUERY_VERBS = {"SELECT", "WITH", "VALUES", "TABLE", "FROM"}
SHOW_VERBS = {"SHOW", "DESCRIBE", "DESC"}
EXPLAIN_MODES = {"EXTENDED", "CODEGEN", "COST", "FORMATTED", "LOGICAL"}
# Words that make a statement a write wherever they stand outside strings and comments. No
# Spark function is called so (REPLACE is one, so it is left to the statement's first word).
WRITE_WORDS = {
    "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "ALTER", "DROP", "TRUNCATE", "OVERWRITE",
    "CACHE", "UNCACHE", "OPTIMIZE", "VACUUM", "RESTORE", "REFRESH", "LOAD", "ANALYZE", "MSCK",
    "GRANT", "REVOKE", "CLONE",
}
# Statements the guard knows to write. Any other first word (EXECUTE IMMEDIATE with SQL in a
# string, BEGIN ... END blocks, CALL) may do anything: it needs both flags.
WRITE_VERBS = WRITE_WORDS | {
    "REPLACE", "CLEAR", "ADD", "LIST", "RESET", "SET", "CONVERT", "GENERATE", "FSCK", "COMMENT",
    "REORG", "DECLARE",
}
STRING = "'"  # stands for any string literal: what it says is no code


@dataclass(frozen=True)
class Verdict:
    kind: str  # READ, WRITE or DESTROY
    statement: Statement
    why: str  # for a refusal: what the statement would do


def classify(text: str, current_database: str = "default", project_database: str = "rft") -> list[Verdict]:
    """The verdict on each statement of `text`, in order."""
    verdicts = []
    for statement in split_statements(text):
        words = tokens(statement.text)
        if words is None:
            verdicts.append(Verdict(WRITE, statement, "cannot be read with certainty (an unterminated string?)"))
            continue
        kind, why = _classify(words, current_database, project_database)
        if kind == READ and words[0] == "USE":  # later unqualified names resolve there
            current_database = (_name(words, 2 if words[1:2] in (["DATABASE"], ["SCHEMA"], ["NAMESPACE"]) else 1)
                                or [current_database])[-1]
        verdicts.append(Verdict(kind, statement, why))
    return verdicts


def refusal(verdicts: list[Verdict], *, write: bool, drop_project_tables: bool) -> str | None:
    """Why the text may not run with these flags (its first statement that needs more), or None."""
    for number, verdict in enumerate(verdicts, start=1):
        needs = {READ: [], WRITE: [WRITE_FLAG], DESTROY: [WRITE_FLAG, DROP_FLAG]}[verdict.kind]
        given = {WRITE_FLAG: write, DROP_FLAG: drop_project_tables}
        if all(given[flag] for flag in needs):
            continue
        shown = " ".join(verdict.statement.text.split())
        shown = shown if len(shown) <= 80 else shown[:79] + "…"
        where = f"statement {number} (line {verdict.statement.line})" if len(verdicts) > 1 else "the statement"
        return (f"refused, nothing was run: {where} `{shown}` {verdict.why}; "
                f"rft sql runs it only with {' '.join(needs)}")
    return None


def tokens(text: str) -> list[str] | None:
    """Upper-cased words, `quoted` names as written, STRING for each literal, other characters one by one.

    Comments are dropped. None when a string or quoted name never ends: what follows cannot be read.
    """
    found, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith("--", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            i = end_of_block_comment(text, i)
        elif ch in "'\"`":
            raw = ch != "`" and found[-1:] == ["R"] and text[i - 1:i] in ("r", "R")
            if raw:  # r'...': backslashes are plain characters; the string ends at the next quote
                found.pop()
                end = text.find(ch, i + 1) + 1
            else:
                end = end_of_quoted(text + " ", i)  # past the end: the string never closed
            if end <= i or end > n:
                return None
            found.append(text[i:end] if ch == "`" else STRING)
            i = end
        elif ch.isalnum() or ch == "_":
            start = i
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            found.append(text[start:i].upper())
        else:
            found.append(ch)
            i += 1
    return found


def _classify(words: list[str], current: str, project: str) -> tuple[str, str]:
    while words and words[0] == "(":
        words = words[1:]
    if not words:
        return WRITE, "is not a statement the guard knows"
    verb = words[0]
    if verb in QUERY_VERBS:
        hit = next((w for w in words if w in WRITE_WORDS), None)
        return (WRITE, f"is a query that also writes ({hit})") if hit else (READ, "")
    if verb in SHOW_VERBS or verb == "USE":
        return READ, ""
    if verb == "EXPLAIN":
        rest = words[1:]
        while rest and rest[0] in EXPLAIN_MODES:
            rest = rest[1:]
        kind, why = _classify(rest, current, project)
        return kind, why and f"explains a statement that {why.removeprefix('is a ').removeprefix('is ')}"
    if verb == "SET":
        if "=" in words or (len(words) > 1 and words[1] in ("VAR", "VARIABLE")):
            return WRITE, "changes a session setting (which can switch off Delta's safety checks)"
        return READ, ""
    if _temporary_view(words):
        return READ, ""
    if verb not in WRITE_VERBS:  # EXECUTE IMMEDIATE 'DROP ...', scripting blocks, CALL, ...
        return DESTROY, (f"starts with {verb}, which rft sql does not know: a typo, or a statement that may "
                         "run any other (EXECUTE IMMEDIATE, BEGIN ... END, CALL), so it counts as destroying")
    destroyed = _destroyed(words, current, project)
    if destroyed:
        return DESTROY, f"deletes or replaces {destroyed}, with its files or history"
    return WRITE, "changes data, schema or the server's state"


def _temporary_view(words: list[str]) -> bool:
    """CREATE [OR REPLACE] TEMP[ORARY] VIEW name ... whose body writes nothing: local to this session."""
    head = words[:6]
    if words[0] != "CREATE" or "VIEW" not in head or "GLOBAL" in head:
        return False
    view = head.index("VIEW")
    if not {"TEMP", "TEMPORARY"} & set(head[:view]):
        return False
    return not any(w in WRITE_WORDS for w in words[view + 1:])


def _destroyed(words: list[str], current: str, project: str) -> str | None:
    """The project table (or database) a statement drops, empties, vacuums or replaces; None if none."""
    verb, second = words[0], words[1] if len(words) > 1 else ""
    if verb == "DROP" and second in ("DATABASE", "SCHEMA", "NAMESPACE"):
        name = _name(words, 2)
        return f"the project database {project}" if not name or name[-1] == project else None
    target = None  # where the table's name starts
    if verb == "DROP":
        if second == "MATERIALIZED":
            words = words[1:]
        target = 2 if words[1:2] in (["TABLE"], ["VIEW"]) else None
    elif (verb, second) in (("TRUNCATE", "TABLE"), ("REPLACE", "TABLE")):
        target = 2
    elif verb == "VACUUM":
        target = 1
    elif verb == "CREATE" and words[1:3] == ["OR", "REPLACE"]:
        target = next((i + 1 for i, w in enumerate(words[:6]) if w in ("TABLE", "VIEW")), None)
    elif verb == "ALTER" and second in ("TABLE", "VIEW"):
        target = 2 if {"DROP", "RENAME", "REPLACE"} & set(words[3:]) else None
    if target is None:
        return None
    name = _name(words, target)
    if _in_project(name, current, project):
        return f"the project table {'.'.join(name) if name else '(a path)'}"
    return None


def _name(words: list[str], i: int) -> list[str]:
    """The dotted name at `words[i]` (after IF [NOT] EXISTS), each part lower-cased and unquoted."""
    while i < len(words) and words[i] in ("IF", "NOT", "EXISTS"):
        i += 1
    parts = []
    while i < len(words) and words[i] not in (STRING, "(", ")", ",", ";", "."):
        part = words[i]
        parts.append(part[1:-1].replace("``", "`") if part.startswith("`") else part.lower())
        if i + 1 < len(words) and words[i + 1] == ".":
            i += 2
        else:
            break
    return parts


def _in_project(name: list[str], current: str, project: str) -> bool:
    """Whether a name may be a table of the project database; a path or no name at all may be."""
    if not name:  # VACUUM '/path', or nothing the guard can read: assume the worst
        return True
    if len(name) >= 2 and name[-2] in ("delta", "parquet") and "/" in name[-1]:
        return True
    database = name[-2] if len(name) >= 2 else current.lower()
    return database == project
