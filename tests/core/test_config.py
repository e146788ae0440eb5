"""Config loading: defaults, every kind of mistake, presets, round trip."""
import pytest

from gradplay.core import config
from gradplay.core.config import ConfigError
from gradplay.presets import load_preset, preset_names

SPEC_EXAMPLE = """
seed = 0
[task]
kind = "dataset"
name = "spiral"
n_samples = 400
noise = 0.1
test_fraction = 0.2
[network]
hidden = [8, 8]
activation = "tanh"
init = "xavier_uniform"
batch_norm = false
[loss]
name = "bce"
[optimizer]
name = "adam"
lr = 0.01
[training]
batch_size = 32
clip_norm = 0.0
clip_value = 0.0
l1 = 0.0
l2 = 0.0
[schedule]
name = "constant"
"""


def test_spec_example_resolves_with_torch_defaults():
    cfg = config.loads(SPEC_EXAMPLE)
    assert cfg["task"] == {"kind": "dataset", "name": "spiral", "n_samples": 400, "noise": 0.1,
                           "test_fraction": 0.2, "classes": 2}
    opt = cfg["optimizer"]
    assert opt["name"] == "adam" and opt["lr"] == 0.01
    assert opt["betas"] == [0.9, 0.999] and opt["eps"] == 1e-8 and opt["weight_decay"] == 0
    assert cfg["schedule"] == {"name": "constant"}


def test_empty_config_takes_defaults():
    cfg = config.resolve({})
    assert cfg["seed"] == 0
    assert cfg["task"]["kind"] == "dataset" and cfg["loss"]["name"] == "bce"  # spiral is binary
    assert cfg["optimizer"]["lr"] == 1e-3  # torch's Adam default
    assert cfg["training"]["batch_size"] == 32


@pytest.mark.parametrize("name,loss", [("blobs3", "cross_entropy"), ("sine", "mse"), ("circles", "bce")])
def test_natural_loss_per_dataset(name, loss):
    assert config.resolve({"task": {"name": name}})["loss"]["name"] == loss


def test_function_task_defaults_to_landscape_start():
    from gradplay.core.landscapes import LANDSCAPES
    cfg = config.resolve({"task": {"kind": "function", "name": "beale"}})
    assert cfg["task"]["start"] == list(LANDSCAPES["beale"].start)


@pytest.mark.parametrize("raw,words", [
    ({"bogus": 1}, ["bogus", "allowed keys", "task"]),
    ({"task": {"nosie": 0.1}}, ["task.nosie", "noise"]),
    ({"optimizer": {"name": "adam", "momentum": 0.9}}, ["optimizer.momentum", "betas"]),
    ({"schedule": {"name": "step", "t_max": 3}}, ["schedule.t_max", "step_size"]),
    ({"network": {"width": 3}}, ["network.width", "hidden"]),
])
def test_unknown_keys_are_named_with_the_allowed_ones(raw, words):
    with pytest.raises(ConfigError) as e:
        config.resolve(raw)
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize("raw,words", [
    ({"seed": "zero"}, ["seed", "integer"]),
    ({"task": {"n_samples": 10.5}}, ["task.n_samples", "integer"]),
    ({"network": {"hidden": "8,8"}}, ["network.hidden", "list"]),
    ({"network": {"batch_norm": 1}}, ["network.batch_norm", "true or false"]),
    ({"optimizer": {"name": "adam", "lr": "fast"}}, ["optimizer.lr", "number"]),
    ({"optimizer": {"name": "adam", "betas": 0.9}}, ["optimizer.betas", "list of 2"]),
    ({"training": {"batch_size": "half"}}, ["training.batch_size", "full"]),
    ({"task": "spiral"}, ["task", "table"]),
])
def test_wrong_types(raw, words):
    with pytest.raises(ConfigError) as e:
        config.resolve(raw)
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize("raw,words", [
    ({"task": {"noise": 2.0}}, ["task.noise", "2.0", "0 to 1"]),
    ({"task": {"n_samples": 5}}, ["task.n_samples", "10 to 100000"]),
    ({"network": {"hidden": [8] * 9}}, ["network.hidden", "0 to 8"]),
    ({"network": {"hidden": [300]}}, ["network.hidden", "1 to 256"]),
    ({"network": {"hidden": [0]}}, ["network.hidden", "1 to 256"]),
    ({"training": {"batch_size": 0}}, ["training.batch_size"]),
    ({"training": {"l2": -1.0}}, ["training.l2", "0 to 10"]),
    ({"optimizer": {"name": "sgd", "lr": -0.1}}, ["optimizer", "sgd", "learning rate"]),
    ({"schedule": {"name": "exponential", "gamma": 1.5}}, ["schedule.gamma"]),
    ({"optimizer": {"name": "adam", "lr": float("nan")}}, ["optimizer.lr"]),
])
def test_out_of_range(raw, words):
    with pytest.raises(ConfigError) as e:
        config.resolve(raw)
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize("raw,key", [
    ({"task": {"name": "swirl"}}, "task.name"),
    ({"task": {"kind": "function", "name": "banana"}}, "task.name"),
    ({"task": {"kind": "picture"}}, "task.kind"),
    ({"network": {"activation": "swish"}}, "network.activation"),
    ({"network": {"init": "orthogonal"}}, "network.init"),
    ({"loss": {"name": "kl"}}, "loss.name"),
    ({"optimizer": {"name": "lion"}}, "optimizer.name"),
    ({"schedule": {"name": "warmup"}}, "schedule.name"),
])
def test_unknown_names_list_the_choices(raw, key):
    with pytest.raises(ConfigError) as e:
        config.resolve(raw)
    assert key in str(e.value) and "choose one of" in str(e.value)


@pytest.mark.parametrize("raw,words", [
    ({"task": {"name": "sine"}, "loss": {"name": "cross_entropy"}}, ["loss.name", "sine", "mse"]),
    ({"task": {"name": "blobs3"}, "loss": {"name": "bce"}}, ["blobs3", "cross_entropy"]),
    ({"task": {"name": "circles"}, "network": {"batch_norm": True}, "training": {"batch_size": 1}},
     ["batch_size", "batch_norm"]),
    ({"network": {"hidden": [64, 64]}, "optimizer": {"name": "newton"}}, ["newton", "2000", "lbfgs"]),
])
def test_inconsistent_choices(raw, words):
    with pytest.raises(ConfigError) as e:
        config.resolve(raw)
    for w in words:
        assert w in str(e.value)


def test_bad_toml_syntax_names_the_source():
    with pytest.raises(ConfigError) as e:
        config.loads("seed = = 1", source="my.toml")
    assert "my.toml" in str(e.value) and "TOML" in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "nope.toml")


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_resolves_and_round_trips(name):
    cfg = load_preset(name)
    assert cfg["meta"]["title"], "presets carry a title"
    assert config.loads(config.dumps(cfg)) == cfg


def test_with_changes_switching_optimizer_drops_old_hyperparameters():
    cfg = config.resolve({"optimizer": {"name": "adam", "betas": [0.8, 0.9]}})
    new = config.with_changes(cfg, optimizer={"name": "sgd", "lr": 0.1})
    assert new["optimizer"]["name"] == "sgd" and "betas" not in new["optimizer"]
    assert new["optimizer"]["momentum"] == 0


def test_lbfgs_line_search_round_trip():
    cfg = config.resolve({"task": {"kind": "function"}, "optimizer": {"name": "lbfgs",
                                                                      "line_search_fn": "strong_wolfe"}})
    assert cfg["optimizer"]["line_search_fn"] == "strong_wolfe"
    assert config.loads(config.dumps(cfg)) == cfg
    plain = config.resolve({"task": {"kind": "function"}, "optimizer": {"name": "lbfgs"}})
    assert plain["optimizer"]["line_search_fn"] == "none"
    assert config.loads(config.dumps(plain)) == plain


def test_with_changes_switching_schedule_drops_old_parameters():
    cfg = config.resolve({"schedule": {"name": "step", "step_size": 7}})
    new = config.with_changes(cfg, schedule={"name": "cosine", "t_max": 50})
    assert new["schedule"] == {"name": "cosine", "t_max": 50, "eta_min": 0.0}


def test_the_readme_config_example_resolves():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Config.*?```toml\n(.*?)```", text, re.S).group(1)
    cfg = config.loads(block)
    assert cfg["task"]["name"] == "spiral" and cfg["timeline"][0]["step"] == 500 and "stop" in cfg
