"""The rejection filter: whether one sampled reasoning path is kept (filter v2).

`verify_path` checks, in this order: the text length, that a final answer follows `####`, that
it equals the gold answer exactly, the number of `<<lhs=rhs>>` annotations, and that every
annotation holds within 1e-3. The first rule that fails gives the reason code ('no_answer',
'equation_1:false_equation', ...). Every path also gets its equation list, the key used by
deduplication, even when it is rejected. docs/verification.md has the rules, reason codes
and limits. Bump FILTER_VERSION when a change there alters which paths are kept.
"""

from dataclasses import dataclass
from functools import lru_cache

from rft.filter.answers import canonical_number, raw_answer
from rft.filter.equations import (
    MAX_EQUATIONS,
    check_equation,
    find_equations,
    join_equations,
)

FILTER_VERSION = "v2"  # v2 accepts `//` in annotations; v1 rejected it
MAX_TEXT_CHARS = 20_000  # ~40x a GSM8K solution; bounds the work spent on one runaway sample

# Samples of one question repeat the same annotations and gold answer over and over, so the
# filter remembers recent verdicts: both functions are pure. The caches are bounded in entries
# and in key size: only short ASCII keys are remembered (real annotations and answers are), so a
# worker's caches stay under 40 MiB whatever the texts (docs/verification.md, section 9).
_MEMO_ENTRIES = 1 << 16
_MEMO_MAX_KEY_CHARS = 128
# One lru_cache of 65,536 entries rebuilds its hash table every ~20,000 insertions once full (and
# as it grows), and the call that triggers it allocates ~4 MB at once: over the 1 MiB a row may
# cost (found by fuzzing, tests/pure/test_fuzz_regressions.py). Split into 64 caches picked by the
# key's hash, each rebuild is 64 times smaller; the entries, and so the memory, stay the same.
_MEMO_SHARDS = 64


def _sharded_memo(function):
    shards = [lru_cache(maxsize=_MEMO_ENTRIES // _MEMO_SHARDS)(function) for _ in range(_MEMO_SHARDS)]

    def memo(key: str):
        return shards[hash(key) % _MEMO_SHARDS](key)  # a str caches its hash: no rehashing

    memo.shards = shards  # for tests: their cache_info()
    return memo


_check_memo = _sharded_memo(check_equation)
_canonical_memo = _sharded_memo(canonical_number)


def _memoizable(key: str, memoize: bool) -> bool:
    return memoize and len(key) <= _MEMO_MAX_KEY_CHARS and key.isascii()  # isascii() is O(1)


def _canonical(number: str, memoize: bool) -> str | None:
    return _canonical_memo(number) if _memoizable(number, memoize) else canonical_number(number)


def _check(equation: str, memoize: bool) -> str | None:
    return _check_memo(equation) if _memoizable(equation, memoize) else check_equation(equation)


@dataclass(frozen=True)
class Verdict:
    """The filter's judgement of one reasoning path."""

    is_correct: bool
    answer: str | None  # canonical extracted answer, None when there is none
    equation_list: str  # normalised annotations joined by `|`, '' when none
    n_equations: int
    reject_reason: str | None  # None exactly when is_correct


def verify_path(text: str | None, gold_answer: str, *, memoize: bool = True) -> Verdict:
    """The verdict of filter v2 on one path `text` against its canonical gold answer.

    `memoize=False` gives the same verdicts without the caches (the benchmark's baseline).
    """
    text = text or ""
    if len(text) > MAX_TEXT_CHARS:
        return Verdict(False, None, "", 0, "text_too_long")
    raw = raw_answer(text)
    answer = None if raw is None else _canonical(raw, memoize)
    equations = find_equations(text)
    key = join_equations(equations)

    def rejected(reason: str) -> Verdict:
        return Verdict(False, answer, key, len(equations), reason)

    if answer is None:
        return rejected("no_answer")
    # `answer` is already canonical (canonical_number is idempotent), so this is answers_match.
    if gold_answer is None or answer != _canonical(gold_answer, memoize):
        return rejected("wrong_answer")
    if len(equations) > MAX_EQUATIONS:
        return rejected("too_many_equations")
    for i, equation in enumerate(equations):
        problem = _check(equation, memoize)
        if problem is not None:
            return rejected(f"equation_{i}:{problem}")
    return Verdict(True, answer, key, len(equations), None)
