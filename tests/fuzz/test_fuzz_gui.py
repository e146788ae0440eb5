"""Random sequences of user actions on the real main window, and random configs through the Setup form.

The state machine plays, pauses, steps, resets, switches optimizer, learning rate, width, depth,
activation, batch mode and task kind in the Setup panel, loads presets, opens broken and good files,
toggles docks, changes speed and autosaves in the background, in random order. After every action:
no exception escaped into Qt, training never stopped on an internal error, the step counter equals
the history rows (while unthinned), the parameters are finite or the run is explicitly halted, the
counter shows the step, and the Setup form reads back exactly the session's config.
"""
from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path

import numpy as np
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from PySide6 import QtCore, QtTest, QtWidgets

from gradplay.core import config as config_mod
from gradplay.core import datasets, io, landscapes, losses, nn, optimizers
from gradplay.core.config import ConfigError
from gradplay.gui.autosave import Autosaver
from gradplay.gui.controller import Controller
from gradplay.gui.main_window import MainWindow
from gradplay.presets import preset_names

N_MACHINES, STEPS_PER_MACHINE, N_FORM = 8, 25, 40  # CI budget (see tests/fuzz/conftest.py)


def budget(n: int, **kw) -> settings:
    """Like the other fuzz modules, without shrinking: shrinking GUI sequences takes many minutes, and
    the failing sequence (derandomized, so it replays) is printed in full anyway."""
    profile = settings.get_profile(os.environ.get("GRADPLAY_FUZZ_PROFILE", "gradplay-ci"))
    return settings(profile, max_examples=max(1, round(n * float(os.environ.get("GRADPLAY_FUZZ_SCALE", "1")))),
                    phases=[Phase.explicit, Phase.reuse, Phase.generate], **kw)


SMALL = {"seed": 1, "task": {"name": "moons", "n_samples": 80}, "network": {"hidden": [4, 4]},
         "optimizer": {"name": "adam", "lr": 0.05}, "training": {"batch_size": 16}}


def _app() -> QtWidgets.QApplication:
    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


class _Errors:
    """Collects exceptions raised inside Qt slots (PySide passes them to sys.excepthook)."""

    def __enter__(self):
        self.caught = []
        self._prev = sys.excepthook
        sys.excepthook = lambda t, e, tb: (self.caught.append(e), traceback.print_exception(t, e, tb))
        return self

    def __exit__(self, *exc):
        sys.excepthook = self._prev
        return False


def _make_window(tmp: Path, raw: dict = SMALL) -> MainWindow:
    settings_ = QtCore.QSettings(str(tmp / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(Controller(config_mod.resolve(raw)), settings=settings_, restore=False)
    w.resize(1280, 800)
    w.show()
    return w


def _form_config(w: MainWindow) -> dict:
    return config_mod.resolve(w.panels["setup"]._raw(""))


def check_window(w: MainWindow) -> None:
    """The invariants that hold after any action."""
    s = w.controller.session
    assert s.halted is None or isinstance(s.halted, str)
    assert not (s.halted and "internal error" in s.halted), s.halted
    if s.step <= s.history.capacity:
        assert len(s.history) == s.step, (len(s.history), s.step)
    assert np.isfinite(s.theta).all() or s.halted
    assert config_mod.resolve(s.config) == s.config
    assert f"step {s.step:,}" in w.transport.counter.text()
    shown = w.on_screen("setup") if hasattr(w, "on_screen") else w.panels["setup"].isVisible()
    setup = w.panels["setup"]
    if setup.error.isHidden() and shown and "setup" not in w._stale:
        # (a hidden dock catches up when it is shown again; a refused edit stays in the form, in red)
        assert _form_config(w) == s.config, "the Setup form shows exactly the session's config"
    elif not setup.error.isHidden():  # the red line explains an edit that was refused, not an old one
        assert "(the run keeps its last valid settings)" in setup.error.text()
        assert _pending_edit(setup, s.config), f"stale error: {setup.error.text()}"
    if s.halted:  # a halt pauses (the trainer thread's halt is noticed at the next frame)
        assert not w.controller.playing


def _pending_edit(setup, cfg: dict) -> bool:
    """Whether the form holds an edit that differs from `cfg`."""
    if (setup.kind.currentData(), setup.task_name.currentData(), setup.optimizer.currentData()) != (
            cfg["task"]["kind"], cfg["task"]["name"], cfg["optimizer"]["name"]):
        return True
    try:
        return config_mod.resolve(setup._raw("")) != cfg
    except ConfigError:
        return True


# ------------------------------------------------------------------------------ the state machine
class GuiActions(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        _app()
        self.tmp = tempfile.TemporaryDirectory()
        self.folder = Path(self.tmp.name)
        self.w = _make_window(self.folder)
        # autosave every 50 ms: background writes race with training, resets and replaced sessions
        self.autosaver = Autosaver(self.w.controller, folder=self.folder / "autosave", interval=0.05)
        self.w.attach_autosave(self.autosaver, choice="discard")
        bad = self.folder / "bad.toml"
        bad.write_text("[optimizer]\nname = 'adamm'\nlr = nan\n")
        broken = self.folder / "broken.gradplay"
        broken.write_bytes(b"PK\x03\x04" + os.urandom(200))
        self.files = [bad, broken, self.folder / "missing.toml"]

    def teardown(self):
        try:
            self.w.controller.pause()
            self.w.close()  # clean exit: the last autosave is written and marked clean
            saved = self.autosaver.path
            if saved.exists():  # what the autosave holds is a session that loads and runs
                s = io.load_session(saved)
                assert s.step == self.w.controller.session.step
                s.run(2)
            self.w.deleteLater()
            _app().processEvents()
        finally:
            self.tmp.cleanup()

    def act(self, fn, *args) -> None:
        with _Errors() as errors:
            fn(*args)
            _app().processEvents()
        assert not errors.caught, errors.caught

    @property
    def setup(self):
        return self.w.panels["setup"]

    # -- transport
    @rule(ms=st.sampled_from([0, 30, 120]))
    def play_for(self, ms):
        def go():
            self.w.controller.play()
            QtTest.QTest.qWait(ms)
            self.w.controller.pause()
        self.act(go)

    @rule()
    def toggle(self):
        self.act(self.w.transport.play_action.trigger)

    @rule()
    def step(self):
        before, halted = self.w.controller.session.step, self.w.controller.session.halted
        self.act(self.w.transport.step_action.trigger)
        s = self.w.controller.session
        assert s.step == before + (0 if (halted or s.halted) else 1)

    @rule()
    def epoch(self):
        def go():
            self.w.transport.epoch_action.trigger()
            QtTest.QTest.qWait(20)
            self.w.controller.pause()
        self.act(go)

    @rule()
    def reset(self):
        playing = self.w.controller.playing
        self.act(self.w.transport.reset_action.trigger)
        s = self.w.controller.session
        if not playing:  # (playing goes on after a reset, from step 0)
            assert s.step == 0 and len(s.history) == 0 and s.halted is None

    @rule(i=st.integers(0, 15))
    def speed(self, i):
        self.act(self.w.transport.speed.setValue, i)

    # -- the Setup form, as a user edits it
    @rule(name=st.sampled_from(list(optimizers.OPTIMIZERS)))
    def optimizer(self, name):
        combo = self.setup.optimizer
        self.act(combo.setCurrentIndex, combo.findData(name))

    @rule(lr=st.sampled_from([0.0, 1e-12, 1e-3, 0.1, 1.0, 1e3, 1e6]))
    def learning_rate(self, lr):
        field = self.setup.hyper.widget_for("lr")
        if field is not None:
            self.act(field.setValue, lr)

    @rule(width=st.sampled_from([1, 2, 7, 64, 256]), which=st.integers(0, 7))
    def width(self, width, which):
        spins = self.setup.layers._spins
        if spins and self.setup.network_box.isEnabled():
            self.act(spins[which % len(spins)].setValue, width)

    @rule(add=st.booleans())
    def depth(self, add):
        button = self.setup.layers.add_button if add else self.setup.layers.remove_button
        if button.isEnabled() and self.setup.network_box.isEnabled():
            self.act(button.click)

    @rule(act=st.sampled_from(nn.ACTIVATIONS))
    def activation(self, act):
        combo = self.setup.activation
        if combo.isEnabled():
            self.act(combo.setCurrentIndex, combo.findData(act))

    @rule(mode=st.sampled_from(["full", "mini", "one"]), size=st.sampled_from([2, 5, 64, 100_000]))
    def batch(self, mode, size):
        if self.setup.batch_row.isEnabled():
            self.act(self.setup.batch_mode.setCurrentIndex, self.setup.batch_mode.findData(mode))
            if self.setup.batch_size.isEnabled():
                self.act(self.setup.batch_size.setValue, size)

    @rule(bn=st.booleans())
    def batch_norm(self, bn):
        if self.setup.batch_norm.isEnabled():
            self.act(self.setup.batch_norm.setChecked, bn)

    @rule(kind=st.sampled_from(["function", "dataset"]), index=st.integers(0, 20))
    def task(self, kind, index):
        self.act(self.setup.kind.setCurrentIndex, self.setup.kind.findData(kind))
        names = self.setup.task_name
        self.act(names.setCurrentIndex, index % names.count())

    @rule(x=st.sampled_from([-1e6, -2.5, 0.0, 0.123456789, 3.0, 1e6]))
    def start_point(self, x):
        if self.w.controller.session.kind == "function":
            self.act(self.setup.start_x.setValue, x)

    # -- files, presets, docks, autosave
    @rule(name=st.sampled_from(preset_names()))
    def preset(self, name):
        self.act(self.w.load_preset, name)
        assert self.w.controller.session.step == 0

    @rule(which=st.integers(0, 2))
    def open_bad_file(self, which):
        before = self.w.controller.session
        with _Errors() as errors:
            ok = self.w.open_path(self.files[which])
        assert not errors.caught and not ok
        assert self.w.controller.session is before, "a file that cannot be read changes nothing"
        assert self.w.banner.isVisible()

    @rule()
    def save_and_open(self):
        path = self.folder / "saved.gradplay"
        s = self.w.controller.session
        io.save_session(s, path)
        step, theta = s.step, s.theta.copy()
        self.act(self.w.open_path, path)
        s2 = self.w.controller.session
        assert s2.step == step and np.array_equal(s2.theta, theta)

    @rule(data=st.data())
    def toggle_dock(self, data):
        name = data.draw(st.sampled_from(sorted(self.w.docks)))
        self.act(self.w.docks[name].toggleViewAction().trigger)

    @rule()
    def autosave(self):
        self.act(self.autosaver.maybe_save)

    @invariant()
    def consistent(self):
        if hasattr(self, "w"):
            check_window(self.w)


TestGuiActions = GuiActions.TestCase
TestGuiActions.settings = budget(N_MACHINES, stateful_step_count=STEPS_PER_MACHINE)


# ------------------------------------------------------------------------------ configs through the form
def _in(lo, hi):
    return st.one_of(st.just(lo), st.just(hi), st.floats(lo, hi, allow_nan=False).filter(
        lambda v: v == 0 or abs(v) >= config_mod.TINY))  # (tinier ones are refused: they show as 0)


# any text but control characters (line breaks and tabs aside), which configs refuse
TITLES = st.text(st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from("\n\t"), max_size=12)


@st.composite
def valid_configs(draw) -> dict:
    """Resolved configs with values anywhere in the config's ranges, ends and odd digits included."""
    r = config_mod
    kind = draw(st.sampled_from(["dataset", "function"]))
    if kind == "function":
        task = {"kind": kind, "name": draw(st.sampled_from(list(landscapes.LANDSCAPES))),
                "start": [draw(_in(*r.TASK_RANGES["start"])), draw(_in(*r.TASK_RANGES["start"]))]}
    else:
        task = {"kind": kind, "name": draw(st.sampled_from(list(datasets.DATASETS))),
                "n_samples": draw(st.sampled_from([10, 11, 400, 2345])),  # quick to generate and evaluate
                "noise": draw(_in(*r.TASK_RANGES["noise"])),
                "test_fraction": draw(_in(*r.TASK_RANGES["test_fraction"]))}
    name = draw(st.sampled_from(list(optimizers.OPTIMIZERS)))
    opt = {"name": name}
    for key, default in optimizers.OPTIMIZERS[name].defaults.items():
        lo, hi = r.HYPER_RANGES.get(key, r.DEFAULT_HYPER_RANGE)
        if default is None or not draw(st.booleans()):
            continue
        if key == "line_search_fn":
            opt[key] = draw(st.sampled_from(["none", "strong_wolfe"]))
        elif key in r.INTEGER_HYPER:
            opt[key] = draw(st.integers(int(lo), int(hi)))
        elif isinstance(default, bool):
            opt[key] = draw(st.booleans())
        elif isinstance(default, tuple):
            opt[key] = [draw(_in(lo, hi)) for _ in default]
        else:
            opt[key] = draw(_in(lo, hi))
    sched = draw(st.sampled_from(list(r.SCHEDULE_PARAMS)))
    schedule = {"name": sched}
    for key in r.SCHEDULE_PARAMS[sched]:
        lo, hi = r.SCHEDULE_RANGES[key]
        schedule[key] = draw(st.integers(lo, hi) if key in ("step_size", "t_max") else _in(lo, hi))
    raw = {
        "seed": draw(st.integers(0, r.MAX_SEED)),
        "meta": {"title": draw(TITLES)},
        "task": task,
        "network": {"hidden": draw(st.lists(st.sampled_from([1, 3, 256]), max_size=3)),
                    "activation": draw(st.sampled_from(nn.ACTIVATIONS)), "init": draw(st.sampled_from(nn.INITS)),
                    "init_std": draw(_in(*r.INIT_STD_RANGE)), "batch_norm": draw(st.booleans())},
        "loss": {"name": draw(st.sampled_from(losses.LOSSES))} if draw(st.booleans()) else {},
        "optimizer": opt,
        "training": {"batch_size": draw(st.one_of(st.just("full"), st.integers(*r.BATCH_SIZE_RANGE))),
                     **{k: draw(_in(*v)) for k, v in r.TRAINING_RANGES.items()}},
        "schedule": schedule,
    }
    # choices that clash (bce on a regression set, Newton on a wide net, Nesterov without momentum)
    # are undone one by one: the test wants configs that resolve
    for fix in ({}, {"loss": {}}, {"network": {**raw["network"], "batch_norm": False}},
                {"optimizer": {"name": name}}, {"optimizer": {"name": "adam"}}):
        raw = {**raw, **fix}
        try:
            return config_mod.resolve(raw)
        except ConfigError:
            continue
    raise AssertionError(f"no valid config from {raw}")


_FORM: dict = {}


def _form_window() -> MainWindow:
    if "w" not in _FORM:
        _app()
        _FORM["tmp"] = tempfile.TemporaryDirectory()
        _FORM["w"] = _make_window(Path(_FORM["tmp"].name))
    return _FORM["w"]


def teardown_module(module):
    if "w" in _FORM:
        _FORM["w"].close()
        _FORM["w"].deleteLater()
        _FORM["tmp"].cleanup()
        _FORM.clear()


@budget(N_FORM)
@given(valid_configs(), st.data())
def test_any_valid_config_survives_the_setup_form(cfg, data):
    """Every config that resolves is shown unclipped and unrounded, and editing one field changes
    only that field (a clipped seed or start point would silently restart the run)."""
    w = _form_window()
    path = Path(_FORM["tmp"].name) / "cfg.toml"
    path.write_text(config_mod.dumps(cfg), encoding="utf-8")
    with _Errors() as errors:
        assert w.open_path(path)
        _app().processEvents()
    assert not errors.caught
    s = w.controller.session
    assert s.config == cfg
    assert _form_config(w) == cfg, "the form reads back exactly the config it shows"
    if cfg["task"]["kind"] == "dataset":
        l2 = data.draw(st.sampled_from([0.0, 0.5, 10.0]).filter(lambda v: v != cfg["training"]["l2"]))
        with _Errors() as errors:
            w.panels["setup"].l2.setValue(l2)
        assert not errors.caught
        assert w.controller.session.config == config_mod.with_changes(cfg, training={"l2": l2})
        assert w.controller.session is s, "a penalty change keeps the run (no rebuild)"
    check_window(w)


# ------------------------------------------------------------------------------ found on the way
def test_the_form_fields_span_exactly_the_config_ranges():
    """Each field's range is the config's: nothing valid is clipped, nothing invalid can be typed."""
    w = _form_window()
    setup = w.panels["setup"]
    r = config_mod
    checked = []

    def check(spin, lo, hi):
        assert (spin.minimum(), spin.maximum()) == (lo, hi), (spin.toolTip(), lo, hi)
        checked.append(spin)

    for spin, rng in ((setup.start_x, r.TASK_RANGES["start"]), (setup.start_y, r.TASK_RANGES["start"]),
                      (setup.n_samples, r.TASK_RANGES["n_samples"]), (setup.noise, r.TASK_RANGES["noise"]),
                      (setup.test_fraction, r.TASK_RANGES["test_fraction"]), (setup.init_std, r.INIT_STD_RANGE),
                      (setup.batch_size, (2, r.BATCH_SIZE_RANGE[1])), (setup.seed, (0, r.MAX_SEED)),
                      *((getattr(setup, k), v) for k, v in r.TRAINING_RANGES.items()),
                      *((spin, (1, r.MAX_WIDTH)) for spin in setup.layers._spins)):
        check(spin, *rng)
    for name in optimizers.OPTIMIZERS:  # the form rebuilds its fields per optimizer: check each at once
        setup.hyper.set_optimizer(name, config_mod.resolve({"optimizer": {"name": name}})["optimizer"])
        for key in optimizers.OPTIMIZERS[name].defaults:
            field = setup.hyper.widget_for(key)
            if isinstance(field, QtWidgets.QAbstractSpinBox):
                check(field, *r.hyper_range(name, key))
            elif field is not None:
                for spin in field.findChildren(QtWidgets.QAbstractSpinBox):  # betas, etas, step sizes
                    check(spin, *r.hyper_range(name, key))
    for name in r.SCHEDULE_PARAMS:
        setup.schedule.load(config_mod.resolve({"schedule": {"name": name}})["schedule"])
        for key, spin in setup.schedule._fields.items():
            check(spin, *r.SCHEDULE_RANGES[key])
    assert len(checked) > 30
    setup.reset()


def test_a_refused_edit_is_forgotten_when_the_session_is_replaced():
    """The red line of a refused edit stayed after a preset, a file or Reset replaced the config."""
    w = _form_window()
    path = Path(_FORM["tmp"].name) / "bn.toml"
    path.write_text(config_mod.dumps(config_mod.resolve({"network": {"batch_norm": True}})))
    assert w.open_path(path)
    setup = w.panels["setup"]
    setup.batch_mode.setCurrentIndex(setup.batch_mode.findData("one"))  # batch norm needs 2+ samples
    assert not setup.error.isHidden() and "batch_size" in setup.error.text()
    w.load_preset(preset_names()[0])
    assert setup.error.isHidden()
    check_window(w)


def test_an_edit_after_a_refused_switch_of_task_kind():
    """Switching to a dataset was refused (batch norm with 1-sample batches), so the name list still
    held landscapes; the next edit looked a landscape up among the datasets (KeyError: 'rosenbrock')."""
    w = _form_window()
    path = Path(_FORM["tmp"].name) / "f.toml"
    path.write_text(config_mod.dumps(config_mod.resolve(
        {"task": {"kind": "function", "name": "rosenbrock"}, "network": {"batch_norm": True},
         "training": {"batch_size": 1}})))
    assert w.open_path(path)
    setup = w.panels["setup"]
    with _Errors() as errors:
        setup.kind.setCurrentIndex(setup.kind.findData("dataset"))  # refused: batch norm + batch 1
        assert not setup.error.isHidden() and "batch_size" in setup.error.text()
        setup.task_name.setCurrentIndex(2)
        setup.batch_mode.setCurrentIndex(setup.batch_mode.findData("full"))  # now the switch can apply
    assert not errors.caught, errors.caught
    assert w.controller.session.kind == "dataset" and setup.error.isHidden()
    check_window(w)
