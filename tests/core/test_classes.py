"""More than two classes: a k-arm spiral or k blobs train with softmax cross-entropy, one logit per
class, on every path alike; the config says what it cannot do."""
import numpy as np
import pytest

from gradplay.core import config, headless
from gradplay.core.config import ConfigError
from gradplay.core.session import Session


def test_a_four_arm_spiral_trains_with_one_logit_per_class():
    cfg = config.resolve({"task": {"name": "spiral", "classes": 4, "n_samples": 400},
                          "network": {"hidden": [16, 16]}, "optimizer": {"name": "adam", "lr": 0.02}})
    assert cfg["loss"]["name"] == "cross_entropy" and cfg["task"]["classes"] == 4
    s = Session(cfg)
    assert s.model.n_out == 4 and set(np.unique(s.data.y_train)) == {0, 1, 2, 3}
    before = s.evaluate()["train_acc"]
    s.run(3000)
    after = s.evaluate()["train_acc"]
    assert before < 0.45 and after > 0.8
    assert s.output_grid(20)[2].shape == (20, 20, 4)


def test_every_path_gives_the_same_bits_on_six_blobs():
    cfg = config.resolve({"task": {"name": "blobs", "classes": 6, "n_samples": 240},
                          "network": {"hidden": [8]}, "training": {"batch_size": 16}})
    a = headless.record(Session(cfg, fast=False), 200)
    b = headless.record(Session(cfg), 200)
    for k in a:
        assert np.array_equal(a[k], b[k]), k


@pytest.mark.parametrize("task, message", [
    ({"name": "circles", "classes": 3}, "circles has 2 classes; the number of classes can be set for spiral"),
    ({"name": "spiral", "classes": 7}, "'task.classes' = 7 is out of range"),
    ({"name": "blobs", "classes": 2}, "spiral \\(2 to 6\\), blobs \\(3 to 6\\)"),
])
def test_classes_outside_what_a_set_allows_are_named(task, message):
    with pytest.raises(ConfigError, match=message):
        config.resolve({"task": task})


def test_two_classes_of_a_k_class_set_refuse_bce():
    with pytest.raises(ConfigError, match="use cross_entropy"):
        config.resolve({"task": {"name": "spiral", "classes": 3}, "loss": {"name": "bce"}})
