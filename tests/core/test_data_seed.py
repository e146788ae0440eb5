"""`task.data_seed`: Regenerate draws new points of the same set; the initial weights and the batch
order stay those of the run's `seed` (TF Playground's "Regenerate")."""
import numpy as np
import pytest

from gradplay.core import config, datasets
from gradplay.core.config import ConfigError
from gradplay.core.session import Session, make_streams

BASE = {"seed": 4, "task": {"name": "moons", "n_samples": 120}, "network": {"hidden": [5]}}


def test_without_a_data_seed_the_points_follow_the_seed():
    cfg = config.resolve(BASE)
    assert "data_seed" not in cfg["task"]
    s = Session(cfg)
    info = datasets.task_info(cfg["task"])
    expected = datasets.from_task(cfg["task"], make_streams(4)["data"],
                                  labels=datasets.label_format_for(s.loss_name, info))
    np.testing.assert_array_equal(s.data.x_train, expected.x_train)


def test_a_data_seed_changes_the_points_and_nothing_else():
    plain = Session(config.resolve(BASE))
    regen = Session(config.resolve(dict(BASE, task=dict(BASE["task"], data_seed=77))))
    assert not np.array_equal(plain.data.x_train, regen.data.x_train)
    for a, b in zip(plain.model.W, regen.model.W):
        np.testing.assert_array_equal(a, b)  # the same initial weights
    np.testing.assert_array_equal(plain._perm, regen._perm)  # the same first epoch's order
    # the points are those of the data seed's own stream, whatever the run's seed
    other = Session(config.resolve(dict(BASE, seed=9, task=dict(BASE["task"], data_seed=77))))
    np.testing.assert_array_equal(other.data.x_train, regen.data.x_train)
    assert config.resolve(config.loads(config.dumps(regen.config), "x"))["task"]["data_seed"] == 77


@pytest.mark.parametrize("value", [-1, 2**31, 1.5, "3", True])
def test_bad_data_seeds_are_named(value):
    with pytest.raises(ConfigError, match="task.data_seed"):
        config.resolve(dict(BASE, task=dict(BASE["task"], data_seed=value)))
