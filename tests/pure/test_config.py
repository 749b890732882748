"""Configs: the paper's defaults, and clear errors for impossible values before any work."""

import pytest

from rft.config.rft_config import ConfigError, RftConfig, load_config
from rft.home import PROJECT_ROOT
from rft_dagster.resources import default_resources


def test_defaults_are_the_papers_settings():
    cfg = RftConfig()
    assert (cfg.sampling.k, cfg.sampling.temperature) == (100, 0.7)
    train = cfg.train_config("sft")
    assert (train.epochs, train.learning_rate, train.global_batch_size, train.max_length) == (3, 2e-5, 128, 512)
    assert (train.lr_scheduler, train.warmup_ratio) == ("cosine", 0.03)


@pytest.mark.parametrize("name", ["demo.yaml", "smoke.yaml", "gsm8k.yaml"])
def test_shipped_configs_load(name):
    load_config(PROJECT_ROOT / "configs" / name)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("sampling: {k: 0}", "k"),
        ("sampling: {temperature: -0.5}", "temperature"),
        ("sampling: {kk: 3}", "kk"),
        ("sft_training: {learning_rte: 0.1}", "learning_rte"),
        ("task: [1, 2]", "task"),
        ("- just a list", "mapping"),
        ("sampling: {k: [", "YAML"),
        ("n_seeds: 0", "n_seeds"),
        ("matched_sft_controls: maybe", "matched_sft_controls"),
    ],
)
def test_broken_configs_name_the_problem(tmp_path, text, fragment):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_config(path)


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_matched_controls_are_on_and_one_seed_by_default():
    cfg = RftConfig()
    assert cfg.matched_sft_controls is True
    assert cfg.training_seeds("sft") == [42]


def test_training_seeds_count_up_from_each_stages_seed():
    cfg = RftConfig(n_seeds=3, sft_training={"seed": 7})
    assert cfg.training_seeds("sft") == [7, 8, 9]
    assert cfg.training_seeds("rft") == [42, 43, 44]


def test_an_empty_rft_config_variable_means_the_default_config(monkeypatch, tmp_path):
    monkeypatch.setenv("RFT_CONFIG", "")
    monkeypatch.setenv("RFT_HOME", str(tmp_path))
    settings = default_resources()["settings"]
    assert settings.config_file is None and settings.config == RftConfig()
