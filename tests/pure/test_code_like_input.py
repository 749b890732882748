"""Model output that looks like code is rejected with a reason, and nothing in it ever runs.

Each payload below would create a file or set an environment variable if Python ran it (the
first test checks that, in a throwaway interpreter). Fed to the filter as an annotation side, a
whole annotation, a final answer and a path, it is rejected with the reason docs/verification.md
gives, the file is never created, the variable never set, and Python's audit hooks see no event
at all (no exec, compile, import, open, subprocess or socket).
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rft.filter.answers import extract_answer
from rft.filter.arithmetic import Rejected, evaluate
from rft.filter.equations import check_equation, equation_list
from rft.filter.path_verdict import MAX_TEXT_CHARS, verify_path
from rft.home import PROJECT_ROOT

CANARY_VAR = "RFT_CANARY"
# Payloads that act when run: `{canary}` is a file path.
LIVE = {
    "__import__('os').system('touch {canary}')": "bad_character",
    "open('{canary}', 'w').write('ran')": "bad_character",
    "exec(\"open('{canary}', 'w')\")": "bad_character",
    "eval(\"__import__('pathlib').Path('{canary}').touch()\")": "bad_character",
    "(lambda: __import__('os').system('touch {canary}'))()": "bad_character",
    "1 if __import__('os').system('touch {canary}') else 2": "bad_character",
    "__import__('os').environ.__setitem__('RFT_CANARY', '1')": "bad_character",
    "__import__('os').putenv('RFT_CANARY', '1') or open('{canary}', 'w')": "bad_character",
}
# Other inputs a checker built on `eval` would run, or choke on.
INERT = {
    "().__class__.__bases__[0].__subclasses__()": "bad_number",  # the `.` after `)` starts a number
    "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen']": "bad_character",
    "globals()": "bad_character",
    "__builtins__": "bad_character",
    "2^3": "bad_character",
    "25%4": "bad_character",
    "~1": "bad_character",
    "2@3": "bad_character",
    "0x10": "bad_character",
    "1_000": "bad_character",
    "1e308*10": "bad_character",
    "'a'*10**9": "bad_character",
    "[1]*10**9": "bad_character",
    "9**9**9": "exponent_too_large",
    "10**10**10": "exponent_too_large",
    "2**2**2**2**2": "exponent_too_large",  # 2**65536
    "(10**30)**64": "too_large",
    "(0.5**64)**64": "too_precise",
    "(" * 25 + "1" + ")" * 25: "too_deep",
    "-" * 50 + "1": "too_deep",
    "9" * 31: "number_too_long",
    "9" * 10_000: "too_long",
    "(" * 500_000 + ")" * 500_000: "too_long",
    "1/(1-1)": "division_by_zero",
}


def payloads(canary: Path) -> dict[str, str]:
    return {text.replace("{canary}", str(canary)): reason for text, reason in (LIVE | INERT).items()}


def test_the_live_payloads_do_act_when_python_runs_them(tmp_path):
    """So that their having no effect below means something."""
    canary = tmp_path / "canary"
    for payload in LIVE:
        code = payload.replace("{canary}", str(canary))
        done = subprocess.run([sys.executable, "-c", f"import os\n{code}\nprint(os.environ.get('{CANARY_VAR}'))"],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False)
        assert done.returncode == 0, done.stderr
        assert canary.exists() or done.stdout.strip() == "1", payload
        canary.unlink(missing_ok=True)


CASES = list(payloads(Path("/tmp/rft-canary")).items())


@pytest.mark.parametrize("payload, reason", CASES, ids=[payload[:24] for payload, _ in CASES])
def test_code_is_rejected_with_the_documented_reason_everywhere_it_can_appear(payload, reason):
    with pytest.raises(Rejected) as rejected:
        evaluate(payload)
    assert rejected.value.reason == reason
    code = "several_equals" if "=" in payload else f"lhs:{reason}"
    assert check_equation(f"{payload}=1") == code
    assert check_equation(f"1={payload}") == ("several_equals" if "=" in payload else f"rhs:{reason}")
    path = f"Let me compute: <<{payload}=1>>1 apple.\n#### 1"
    too_long = len(path) > MAX_TEXT_CHARS  # megabyte payloads are refused before they are read
    assert verify_path(path, "1").reject_reason == ("text_too_long" if too_long else f"equation_0:{code}")
    assert extract_answer(f"#### {payload}") is None
    assert verify_path(f"#### {payload}", "1").reject_reason == ("text_too_long" if too_long else "no_answer")


AUDITED_RUN = """
import json, sys
from rft.filter.answers import extract_answer
from rft.filter.arithmetic import Rejected, evaluate
from rft.filter.equations import check_equation, equation_list
from rft.filter.path_verdict import verify_path

payloads = json.loads(sys.stdin.read())
events = []
sys.addaudithook(lambda event, args: events.append(event))  # every audited action from here on
for payload in payloads:
    for text in (payload, f"<<{payload}=1>>", f"x <<{payload}=1>>1\\n#### 1", f"#### {payload}"):
        verify_path(text, "1"); verify_path(text, "1", memoize=False)
        extract_answer(text); equation_list(text); check_equation(text)
        try:
            evaluate(text)
        except Rejected:
            pass
print(json.dumps(sorted(set(events))))
"""


def test_nothing_runs_no_file_appears_and_no_variable_is_set(tmp_path):
    canary = tmp_path / "canary"
    texts = list(payloads(canary))
    env = {k: v for k, v in os.environ.items() if k != CANARY_VAR} | {"PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-c", AUDITED_RUN], input=json.dumps(texts), capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [], "audited events while checking hostile text"
    # And in this process too, without the audit hook:
    for text in texts:
        verify_path(f"<<{text}=1>>\n#### 1", "1")
        equation_list(text)
        extract_answer(text)
    assert not canary.exists()
    assert CANARY_VAR not in os.environ


FILTER_MODULES = ["rft/filter/answers.py", "rft/filter/arithmetic.py", "rft/filter/equations.py", "rft/filter/path_verdict.py"]
ALLOWED_IMPORTS = {"re", "decimal", "fractions", "dataclasses", "functools", "rft.filter.answers", "rft.filter.arithmetic",
                   "rft.filter.equations"}
NEVER_CALLED = {"eval", "exec", "compile", "__import__", "getattr", "setattr", "open", "globals", "locals", "vars"}


@pytest.mark.parametrize("module", FILTER_MODULES)
def test_the_filter_modules_import_and_call_nothing_that_can_run_code(module):
    tree = ast.parse((PROJECT_ROOT / module).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= ALLOWED_IMPORTS, imported - ALLOWED_IMPORTS
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not names & NEVER_CALLED
