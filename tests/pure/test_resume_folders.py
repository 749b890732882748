"""Which resume checkpoint a restarted training run may use: only whole ones, only of its own settings."""

import json

from rft.training.resume_folders import MARKER, ResumeFolders, differences, run_settings

CONFIG = {"learning_rate": 1e-3, "seed": 42, "checkpoint_every": 200}
EXAMPLES = [("Q: 2+3?", "2+3=<<2+3=5>>5\n#### 5"), ("Q: 4*2?", "4*2=<<4*2=8>>8\n#### 8")]


def resume_of(tmp_path, config=CONFIG, examples=EXAMPLES, base="tiny-llama-a") -> ResumeFolders:
    return ResumeFolders.for_run(tmp_path / "resume", config, examples, base)


def save(resume: ResumeFolders, step: int) -> None:
    resume.save(step, lambda folder: (folder / "state.pt").write_text(f"state at {step}"))


def test_the_newest_whole_checkpoint_is_picked_and_only_two_are_kept(tmp_path):
    resume = resume_of(tmp_path)
    assert resume.latest() is None
    for step in (200, 400, 600):
        save(resume, step)
    assert [p.name for p in sorted(resume.folder.iterdir())] == ["step-00000400", "step-00000600"]
    assert (resume.latest() / "state.pt").read_text() == "state at 600"
    assert resume.older_than(resume.latest()).name == "step-00000400"


def test_a_half_written_checkpoint_is_never_picked(tmp_path):
    resume = resume_of(tmp_path)
    save(resume, 200)
    # What kill -9 mid-save leaves: a temporary folder, and a step folder without its marker.
    (resume.folder / ".tmp-step-00000400-1234").mkdir()
    (resume.folder / ".tmp-step-00000400-1234" / "state.pt").write_text("half")
    (resume.folder / "step-00000600").mkdir()
    (resume.folder / "step-00000600" / "state.pt").write_text("no marker")
    assert resume.latest().name == "step-00000200"
    save(resume, 400)  # the next save clears the leftovers of the killed one
    assert not (resume.folder / ".tmp-step-00000400-1234").exists()
    assert json.loads((resume.latest() / MARKER).read_text())["step"] == 400


def test_how_often_state_is_saved_is_no_part_of_the_fingerprint_but_the_seed_and_data_are(tmp_path):
    base = resume_of(tmp_path).fingerprint
    assert resume_of(tmp_path, {**CONFIG, "checkpoint_every": 50}).fingerprint == base
    assert resume_of(tmp_path, {**CONFIG, "seed": 43}).fingerprint != base
    assert resume_of(tmp_path, examples=EXAMPLES[:1]).fingerprint != base
    assert resume_of(tmp_path, base="tiny-llama-b").fingerprint != base


def test_state_of_other_settings_is_not_resumed_and_the_log_says_what_differs(tmp_path):
    save(resume_of(tmp_path), 200)
    other = resume_of(tmp_path, {**CONFIG, "learning_rate": 2e-3}, examples=EXAMPLES[:1])
    assert other.latest() is None
    why = other.why_fresh()
    assert "training starts at step 0" in why and "(step 200)" in why
    assert "train_config.learning_rate was 0.001, now 0.002" in why
    assert "the training data differ (2 examples then, 1 now)" in why


def test_a_run_without_any_state_says_so(tmp_path):
    assert resume_of(tmp_path).why_fresh() == f"no resume checkpoint in {tmp_path / 'resume'}: training starts at step 0"


def test_clearing_removes_only_this_runs_state(tmp_path):
    mine, theirs = resume_of(tmp_path), resume_of(tmp_path, {**CONFIG, "seed": 7})
    save(mine, 200)
    save(theirs, 200)
    mine.clear()
    assert mine.latest() is None and theirs.latest() is not None
    theirs.clear()
    assert not (tmp_path / "resume").exists()


def test_differences_name_each_changed_setting():
    old = run_settings(CONFIG, EXAMPLES, "a")
    assert differences(old, old) == []
    assert differences(old, run_settings({**CONFIG, "seed": 1}, EXAMPLES, "b")) == [
        "train_config.seed was 42, now 1", "the base was 'a', now 'b'"]
