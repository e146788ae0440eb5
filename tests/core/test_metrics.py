"""Accuracy and the confusion matrix, by hand: rows are the true class, columns the predicted one."""
import numpy as np

from gradplay.core import config, losses
from gradplay.core.session import Session


def test_confusion_matrix_by_hand_for_each_label_form():
    out = np.array([[2.0], [-1.0], [0.5], [-3.0], [0.0]])          # predicted 1, 0, 1, 0, 0
    y01 = np.array([1.0, 1.0, 0.0, 0.0, 0.0])
    m = losses.confusion_matrix("bce", out, y01, 2)
    assert m.tolist() == [[2, 1], [1, 1]]                            # true 0: 2 right, 1 called 1
    ypm = 2 * y01 - 1
    assert losses.confusion_matrix("hinge", out, ypm, 2).tolist() == m.tolist()
    assert losses.confusion_matrix("mse", out, ypm, 2).tolist() == m.tolist()
    assert losses.confusion_matrix("mse", out, np.array([0.3, 1, 1, 1, 1.0]), 2) is None  # a regression
    logits = np.array([[3.0, 0, 0], [0, 2, 0], [0, 0, 1], [5, 0, 0], [0, 1, 2]])
    y = np.array([0, 1, 1, 2, 2])
    assert losses.confusion_matrix("cross_entropy", logits, y, 3).tolist() == [[1, 0, 0], [0, 1, 1], [1, 0, 1]]
    assert losses.accuracy("cross_entropy", logits, y) == 3 / 5


def test_the_session_matrices_sum_to_each_set_and_agree_with_accuracy():
    s = Session(config.resolve({"task": {"name": "blobs", "classes": 5, "n_samples": 300}, "network": {"hidden": [8]}}))
    s.run(300)
    m = s.confusion()
    ev = s.evaluate()
    for split, n in (("train", len(s.data.y_train)), ("test", len(s.data.y_test))):
        assert m[split].shape == (5, 5) and m[split].sum() == n
        assert np.trace(m[split]) / n == ev[f"{split}_acc"]
        assert m[split].sum(axis=1).tolist() == np.bincount(getattr(s.data, f"y_{split}"), minlength=5).tolist()
    regression = Session(config.resolve({"task": {"name": "sine"}}))
    assert regression.confusion() is None
