"""The cost estimates against what the machine measures, and the warning they give."""
import json
import subprocess
import sys

import pytest

from gradplay.core import config, cost

BIG = {"task": {"name": "spiral", "n_samples": 10000},
       "network": {"hidden": [256] * 8, "batch_norm": True}, "training": {"batch_size": "full"}}


def test_memory_estimate_matches_the_measured_peak(tmp_path):
    """Peak resident memory of a real process training two steps (the independent reference),
    within a factor 1.5 of step_bytes."""
    code = ("import json, resource, sys\n"
            "from gradplay.core import config\nfrom gradplay.core.session import Session\n"
            "s = Session(config.resolve(json.loads(sys.argv[1])))\ns.run(2)\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)\n")
    p = subprocess.run([sys.executable, "-c", code, json.dumps(BIG)], capture_output=True, text=True,
                       timeout=300, check=True)
    measured = int(p.stdout.split()[-1])
    estimate = cost.step_bytes(config.resolve(BIG))
    assert measured / 1.5 < estimate < measured * 1.5, (estimate, measured)


def test_a_config_beyond_the_machine_is_warned_with_its_estimates():
    cfg = config.resolve({**BIG, "task": {"name": "spiral", "n_samples": 20000}})
    msg = cost.warning(cfg, steps=1000, free=2 * 10**9)
    assert msg is not None
    assert f"{config.n_params(cfg):,} parameters on batches of 16,000 samples" in msg
    assert "s per step, about" in msg and "for 1,000 steps" in msg
    assert "GB of memory while it trains, of the 2.0 GB this machine has available" in msg
    assert "training.batch_size" in msg
    assert cost.beyond_memory(cfg, free=1.5 * 10**9) and not cost.beyond_memory(cfg, free=10**11)


@pytest.mark.parametrize("raw", [{}, {"task": {"kind": "function", "name": "rosenbrock"}},
                                 {**BIG, "training": {"batch_size": 32}}])
def test_ordinary_configs_are_not_warned(raw):
    assert cost.warning(config.resolve(raw), steps=10**6, free=4 * 10**9) is None
