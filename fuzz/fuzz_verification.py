"""Coverage-guided fuzzing (atheris, libFuzzer) of the answer extractor, the arithmetic checker
and the equation-list builder, and of the filter that uses them.

    python fuzz/fuzz_verification.py -runs=20000 -seed=1 -dict=fuzz/verification.dict CORPUS_DIR fuzz/seeds
    python fuzz/fuzz_verification.py -max_total_time=600 -dict=fuzz/verification.dict CORPUS_DIR fuzz/seeds

(libFuzzer adds the inputs it finds interesting to the first folder: give it a scratch one.)
`--stats=FILE` writes {"fuzz_inputs", "fuzz_failures", "failures"} as JSON every 1000 inputs
and after the last of `-runs`; tests/pure/test_fuzz.py runs this in CI. `--failures=DIR` keeps
each failing input's bytes there whole (the stats keep 300 characters), for a regression test.

Each input is decoded to text (UTF-8, or with lone surrogates), put in one of FRAMES (as it is,
after `#### `, inside `<<...>>`) and given to every function. An input fails when a call
raises (other than `Rejected` from `evaluate`), returns something outside its documented
contract, triggers any Python audit event (exec, compile, import, open, subprocess...: nothing
may run), or takes more than MAX_ROW_BYTES of memory (tracemalloc). Failures are counted and
kept, not fatal, so one run reports them all.
"""

import json
import re
import sys
import tracemalloc
from fractions import Fraction
from pathlib import Path

import atheris

atheris.enabled_hooks.add("RegEx")  # guide inputs towards what the answer's pattern matches
atheris.enabled_hooks.add("str")  # and towards the prefixes and suffixes the code looks for
with atheris.instrument_imports():
    from rft.filter.answers import answers_match, canonical_number, extract_answer
    from rft.filter.arithmetic import REASONS, Rejected, evaluate
    from rft.filter.equations import check_equation, equation_list, find_equations
    from rft.filter.path_verdict import verify_path

MAX_ROW_BYTES = 1 << 20  # docs/verification.md, section 9
KEEP_FAILURES = 20
CANONICAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?")
EQUATION_CODES = {"no_equals", "several_equals", "false_equation"} | {
    f"{side}:{reason}" for side in ("lhs", "rhs") for reason in REASONS
}
FILTER_CODES = {"text_too_long", "no_answer", "wrong_answer", "too_many_equations"}


class Broken(Exception):
    """A documented contract does not hold for this input."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Broken(what)


# Where the fuzzed text goes: as it is, as a final answer, as an annotation, as one side of one.
FRAMES = (("", ""), ("#### ", ""), ("<<", ">>\n#### 1"), ("So <<", "=1>>1.\n#### 1"))


def decode(data: bytes) -> str:
    """The first byte picks the frame and, when odd, decoding with lone surrogates (as broken text has)."""
    head = data[0] if data else 0
    text = data[1:].decode("utf-8", "surrogateescape" if head & 1 else "replace")
    before, after = FRAMES[(head >> 1) % len(FRAMES)]
    return before + text + after


def exercise(text: str) -> None:
    """Every function on `text`; raises on anything outside its contract."""
    answer = extract_answer(text)
    check(answer is None or (CANONICAL.fullmatch(answer) is not None and canonical_number(answer) == answer),
          f"extract_answer gave {answer!r}")
    check(answers_match(text, answer or "0") in (True, False), "answers_match")
    try:
        check(isinstance(evaluate(text), Fraction), "evaluate returned a non-Fraction")
    except Rejected as rejected:
        check(rejected.reason in REASONS, f"evaluate's reason {rejected.reason!r}")
    check(check_equation(text) in EQUATION_CODES | {None}, "check_equation's code")
    equations = find_equations(text)
    key = equation_list(text)
    check(key == "|".join("".join(e.split()) for e in equations) and not any(c.isspace() for c in key),
          "equation_list")
    verdict = verify_path(text, answer or "0")  # its own answer as gold: the annotations get checked
    check(verdict == verify_path(text, answer or "0", memoize=False), "memoized verdict differs")
    reason = verdict.reject_reason
    check(verdict.is_correct == (reason is None), "is_correct and reject_reason disagree")
    if reason is not None and reason.startswith("equation_"):
        index, code = reason.removeprefix("equation_").split(":", 1)
        check(int(index) < verdict.n_equations and code in EQUATION_CODES, f"reason {reason!r}")
    else:
        check(reason is None or reason in FILTER_CODES, f"reason {reason!r}")


class Harness:
    def __init__(self, stats_path: Path | None, runs: int | None, failures_dir: Path | None = None):
        self.stats_path, self.runs, self.failures_dir = stats_path, runs, failures_dir
        self.inputs, self.failures, self.kept = 0, 0, []
        self.events: list[str] = []
        self.listening = False
        sys.addaudithook(self.audit)

    def audit(self, event: str, args) -> None:
        if self.listening:
            self.events.append(event)

    def one_input(self, data: bytes) -> None:
        text = decode(data)
        self.inputs += 1
        self.events.clear()
        problem = None
        tracemalloc.start()
        self.listening = True
        try:
            exercise(text)
        except Exception as error:  # noqa: BLE001 - every escape is a finding
            problem = f"{type(error).__name__}: {error}"
        finally:
            self.listening = False
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        if problem is None and self.events:
            problem = f"audit events {sorted(set(self.events))}"
        if problem is None and peak > MAX_ROW_BYTES + 4 * len(data):
            problem = f"peak memory {peak} bytes"
        if problem is not None:
            self.failures += 1
            if len(self.kept) < KEEP_FAILURES:
                self.kept.append({"input": text[:300], "problem": problem[:300]})
                if self.failures_dir is not None:
                    self.failures_dir.mkdir(parents=True, exist_ok=True)
                    (self.failures_dir / f"failure-{self.failures}").write_bytes(data)
            print(f"FAILURE on {text[:80]!r}: {problem[:300]}", file=sys.stderr, flush=True)
        if self.inputs % 1000 == 0 or self.inputs == self.runs:
            self.write_stats()

    def write_stats(self) -> None:
        if self.stats_path is not None:
            stats = {"fuzz_inputs": self.inputs, "fuzz_failures": self.failures, "failures": self.kept}
            tmp = self.stats_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(stats, indent=2))
            tmp.replace(self.stats_path)


def main(argv: list[str]) -> None:
    stats = next((a.split("=", 1)[1] for a in argv if a.startswith("--stats=")), None)
    runs = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("-runs=")), None)
    failures = next((a.split("=", 1)[1] for a in argv if a.startswith("--failures=")), None)
    harness = Harness(Path(stats) if stats else None, runs, Path(failures) if failures else None)
    atheris.Setup([a for a in argv if not a.startswith(("--stats=", "--failures="))], harness.one_input)
    atheris.Fuzz()  # libFuzzer exits the process when done


if __name__ == "__main__":
    main(sys.argv)
