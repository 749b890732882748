"""How many training processes a config asks for, and which examples each one takes."""

import pytest

from rft.config.train_config import TrainConfig
from rft.training.data_parallel import n_processes, share


def test_auto_is_one_process_per_visible_gpu():
    assert n_processes(TrainConfig(), visible_gpus=0) == 1
    assert n_processes(TrainConfig(), visible_gpus=1) == 1
    assert n_processes(TrainConfig(), visible_gpus=4) == 4
    assert n_processes(TrainConfig(n_processes=2), visible_gpus=4) == 2


def test_off_is_one_process_and_on_needs_two():
    assert n_processes(TrainConfig(data_parallel="off"), visible_gpus=8) == 1
    assert n_processes(TrainConfig(data_parallel="on", n_processes=2), visible_gpus=0) == 2  # gloo on CPU
    with pytest.raises(ValueError, match="fewer than 2"):
        n_processes(TrainConfig(data_parallel="on"), visible_gpus=1)
    with pytest.raises(ValueError, match="only 2 GPUs"):
        n_processes(TrainConfig(data_parallel="on", n_processes=4), visible_gpus=2)
    with pytest.raises(ValueError, match="use one of"):
        n_processes(TrainConfig(data_parallel="yes"), visible_gpus=2)


def test_the_shares_of_a_batch_are_disjoint_and_cover_it():
    batch = [10, 11, 12, 13, 14]
    shares = [share(batch, rank, 2) for rank in range(2)]
    assert shares == [[10, 12, 14], [11, 13]]
    assert share([10], 1, 2) == []  # a batch smaller than the processes leaves one without a share
