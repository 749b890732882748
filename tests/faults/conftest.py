"""Fixtures of the fault tests: one lab with the rows of a clean run, and the reliability report."""

import pytest

from free_ports import free_port
from rft.home import PROJECT_ROOT
from tests.faults.lab import clean_lab
from tests.faults.reliability import Recorder

RECORDER = Recorder()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """The lab after a clean run of the loop (see `tests.faults.lab.clean_lab`)."""
    lab = clean_lab(tmp_path_factory.mktemp("fault_lab"), free_port(), RECORDER)
    yield lab
    lab.stop()


@pytest.fixture(scope="session")
def recorder():
    return RECORDER


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """benches/results/reliability.json, when fault tests ran in this session."""
    if RECORDER.faults:
        RECORDER.write()
        print(f"\nreliability report: {RECORDER.report()['faults_survived']} of {len(RECORDER.faults)} faults "
              f"survived -> {(PROJECT_ROOT / 'benches/results/reliability.json').relative_to(PROJECT_ROOT)}")
