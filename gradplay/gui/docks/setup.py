"""The Setup dock: every setting of the run, as a form over the session's config.

The form holds no state of its own: it is loaded from `session.config`, and each committed edit
rebuilds a whole raw config from the fields, resolves it (so the engine's validation and messages
apply) and hands it to the controller. A ConfigError shows in the red line at the top and the run
keeps its last valid settings.
"""
from __future__ import annotations

import random
from typing import Any

from PySide6 import QtCore, QtWidgets

from ...core import config as config_mod
from ...core import datasets, losses, nn, optimizers, stopping, timeline
from ...core import problem as problems
from ..widgets.hyper_form import HyperForm
from ..widgets.inputs_picker import InputsPicker
from ..widgets.layers_editor import LayersEditor
from ..widgets.numbers import SciSpinBox, compact_combo, guard_wheel, int_spin, unit_spin, wide_int_spin
from ..widgets.setup_parts import Collapsible, Header, ScheduleForm, color_error_label, error_label, group
from ..widgets.thumbnails import ThumbnailPicker
from .base import Panel

NOT_ON_LANDSCAPE = ("A landscape task has no network, loss or batches: its parameters are the point "
                    "(x, y) and its loss is f(x, y) itself.")
NO_EPOCHS = ("A landscape task has no epochs and no test set: only the step limit, the target loss and "
             "how often they are checked apply to it.")
MIXED = "per layer"  # what the activation combo shows when the layers' activations differ
BATCH_MODES = (("full", "full batch (gradient descent)"), ("mini", "mini-batch"),
               ("one", "1 sample (stochastic)"))


def _combo(items: list[tuple[str, str]], tip: str = "") -> QtWidgets.QComboBox:
    """A combo whose items carry their config value as data and show a readable text."""
    w = compact_combo()
    for value, text in items:
        w.addItem(text, value)
    w.setToolTip(tip)
    return w


def _select(combo: QtWidgets.QComboBox, value: Any) -> None:
    i = combo.findData(value)
    if i >= 0:
        combo.setCurrentIndex(i)


class SetupPanel(Panel):
    """Task, network, loss, optimizer, batches, regularisation, schedule and seed of the run."""

    title = "Setup"
    name = "setup"

    def __init__(self, holder, parent: QtWidgets.QWidget | None = None):
        super().__init__(holder, parent)
        self._loading = False
        self._loaded: dict | None = None  # the config the form shows (see refresh)
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.error = error_label()
        outer.addWidget(self.error)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QtWidgets.QWidget()
        scroll.setWidget(body)
        self._col = QtWidgets.QVBoxLayout(body)
        self._col.setContentsMargins(8, 6, 8, 8)
        self._col.setSpacing(8)
        self.header = Header()
        self._col.addWidget(self.header)
        self._build_task()
        self._build_network()
        self._build_optimizer()
        self._build_training()
        self._build_stop()
        self._col.addStretch(1)
        self.setMinimumWidth(250)
        self.reset()

    # ----------------------------------------------------------------- building
    def _build_task(self) -> None:
        box, form = group("Task", self._col)
        self.kind = _combo([("function", "loss landscape f(x, y)"), ("dataset", "dataset + network")],
                           "Optimise a 2-D function directly, or train a network on a dataset")
        self.task_name = _combo([])
        self.task_info = QtWidgets.QLabel(wordWrap=True)
        self.task_info.setProperty("muted", True)
        # every field spans exactly the config's range (config.*_RANGES), so no valid config is clipped
        ranges = config_mod.TASK_RANGES
        self.start_x = guard_wheel(unit_spin(*ranges["start"], 0.0, 0.1, 3))
        self.start_y = guard_wheel(unit_spin(*ranges["start"], 0.0, 0.1, 3))
        start = QtWidgets.QHBoxLayout()
        start.addWidget(self.start_x)
        start.addWidget(self.start_y)
        self.start_row = QtWidgets.QWidget()
        self.start_row.setLayout(start)
        start.setContentsMargins(0, 0, 0, 0)
        self.start_row.setToolTip("Start point (x, y); you can also click the landscape to move it")
        self.n_samples = guard_wheel(int_spin(*ranges["n_samples"], 400))
        self.noise = guard_wheel(unit_spin(*ranges["noise"], 0.1, 0.05, 2))
        self.test_fraction = guard_wheel(unit_spin(*ranges["test_fraction"], 0.2, 0.05, 2))
        self.n_samples.setToolTip("Points drawn (training + test)")
        self.noise.setToolTip("How far points are jittered from their clean position (0 = none, 1 = very noisy)")
        self.test_fraction.setToolTip("Share of the points held out to measure generalisation")
        self.classes = guard_wheel(int_spin(0, max(hi for _, hi in datasets.CLASS_RANGES.values()), 2))
        # the datasets (or landscapes) as pictures, as TF Playground shows its data sets
        self.thumbs = ThumbnailPicker()
        self.thumbs.picked.connect(lambda name: _select(self.task_name, name))
        form.addRow("kind", self.kind)
        form.addRow(self.thumbs)
        form.addRow("name", self.task_name)
        form.addRow(self.task_info)
        self._rows_function = [form.rowCount()]
        form.addRow("start x, y", self.start_row)
        self._rows_dataset = list(range(form.rowCount(), form.rowCount() + 4))
        form.addRow("classes", self.classes)
        # TF Playground's "Regenerate": new points of the same set, the same initial weights
        self.regenerate = QtWidgets.QToolButton(text="regenerate")
        self.regenerate.setToolTip("Draw new points of this data set (its own data seed): the initial weights "
                                   "and the batch order stay those of the run's seed")
        self.regenerate.clicked.connect(lambda: self._edited("regenerate"))
        form.addRow("samples", _pair(self.n_samples, self.regenerate))
        self._generated_tips = {w: w.toolTip() for w in (self.n_samples, self.noise, self.regenerate)}
        form.addRow("noise", self.noise)
        form.addRow("test fraction", self.test_fraction)
        self.task_form = form
        self.kind.currentIndexChanged.connect(lambda: self._edited("kind"))
        self.task_name.currentIndexChanged.connect(lambda: self._edited("task_name"))
        for w in (self.start_x, self.start_y, self.classes, self.n_samples, self.noise, self.test_fraction):
            w.valueChanged.connect(lambda *_: self._edited())

    def _build_network(self) -> None:
        self.network_box, form = group("Network", self._col)
        self.inputs = InputsPicker()
        self.layers = LayersEditor()
        self.activation = _combo([(a, a) for a in nn.ACTIVATIONS],
                                 "Activation of every hidden layer (each layer's own is beside its width)")
        self.activation.setPlaceholderText(MIXED)  # shown when the layers' activations differ
        self.init = _combo([(i, i) for i in nn.INITS], "How the initial weights are drawn (biases start at 0)")
        self.init_std = guard_wheel(SciSpinBox(*config_mod.INIT_STD_RANGE, 1.0))
        self.batch_norm = QtWidgets.QCheckBox("batch norm")
        self.loss = _combo([], "The loss the network minimises (only those that fit the dataset)")
        form.addRow("inputs", self.inputs)
        form.addRow(self.layers)
        form.addRow("activation", self.activation)
        form.addRow("init", self.init)
        form.addRow("init std", self.init_std)
        form.addRow(self.batch_norm)
        form.addRow("loss", self.loss)
        self.inputs.changed.connect(lambda: self._edited())
        self.inputs.refused.connect(self.show_error)
        self.layers.changed.connect(lambda: self._edited())
        self.activation.currentIndexChanged.connect(lambda *_: self._edited("activation"))
        for w in (self.init, self.loss):
            w.currentIndexChanged.connect(lambda *_: self._edited())
        self.init_std.valueChanged.connect(lambda *_: self._edited())
        self.batch_norm.setToolTip("Normalise each hidden layer's pre-activations over the batch, then "
                                   "scale and shift (torch BatchNorm1d)")
        self.batch_norm.toggled.connect(lambda *_: self._edited())

    def _build_optimizer(self) -> None:
        _, form = group("Optimizer", self._col)
        self.optimizer = _combo([(n, n) for n in optimizers.OPTIMIZERS],
                                "Update rule (torch.optim semantics and defaults)")
        self.hyper = HyperForm()
        form.addRow("optimizer", self.optimizer)
        form.addRow(self.hyper)
        self.optimizer.currentIndexChanged.connect(lambda: self._edited("optimizer_name"))
        self.hyper.changed.connect(lambda: self._edited())

    def _build_training(self) -> None:
        _, form = group("Training", self._col)
        self.batch_mode = _combo(list(BATCH_MODES), "Samples per gradient estimate")
        self.batch_size = guard_wheel(int_spin(2, config_mod.BATCH_SIZE_RANGE[1], 32))  # 1: "1 sample"
        self.batch_size.setToolTip("Mini-batch size")
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.batch_mode, 1)
        row.addWidget(self.batch_size)
        self.batch_row = QtWidgets.QWidget()
        self.batch_row.setLayout(row)
        tr = config_mod.TRAINING_RANGES
        self.l1 = guard_wheel(SciSpinBox(*tr["l1"], 0.0, "off"))
        self.l2 = guard_wheel(SciSpinBox(*tr["l2"], 0.0, "off"))
        self.clip_norm = guard_wheel(SciSpinBox(*tr["clip_norm"], 0.0, "off"))
        self.clip_value = guard_wheel(SciSpinBox(*tr["clip_value"], 0.0, "off"))
        self.l1.setToolTip("L1 penalty on the weights: loss += l1·Σ|W| (biases excluded)")
        self.l2.setToolTip("L2 penalty on the weights: loss += l2·ΣW² (biases excluded)")
        self.clip_norm.setToolTip("Rescale the gradient when its global norm exceeds this (0 = off)")
        self.clip_value.setToolTip("Clamp each gradient entry to ±this (0 = off)")
        form.addRow("batch", self.batch_row)
        form.addRow("L1 / L2", _pair(self.l1, self.l2))
        form.addRow("clip norm", self.clip_norm)
        form.addRow("clip value", self.clip_value)
        self.schedule = ScheduleForm()
        form.addRow(self.schedule)
        self.seed = guard_wheel(int_spin(0, config_mod.MAX_SEED, 0))
        self.seed.setToolTip("Fixes the initial weights, the batch order and the data (unless the data was "
                             "regenerated: it keeps its own seed)")
        reseed = QtWidgets.QToolButton(text="new")
        reseed.setToolTip("Draw a new seed: new initial weights, data and batch order")
        reseed.clicked.connect(self._reseed)
        form.addRow("seed", _pair(self.seed, reseed))
        self.batch_mode.currentIndexChanged.connect(lambda *_: self._edited())
        for w in (self.batch_size, self.l1, self.l2, self.clip_norm, self.clip_value, self.seed):
            w.valueChanged.connect(lambda *_: self._edited())
        self.schedule.changed.connect(lambda: self._edited())

    def _build_stop(self) -> None:
        self.stop_box = Collapsible("Stop conditions")
        self._col.addWidget(self.stop_box)
        form = self.stop_box.form
        r = stopping.RANGES
        self.max_steps = guard_wheel(wide_int_spin(*map(int, r["max_steps"]), 0))
        self.max_epochs = guard_wheel(int_spin(*map(int, r["max_epochs"]), 0))
        self.target_loss = guard_wheel(SciSpinBox(*r["target_loss"], 0.0, "off"))
        self.patience = guard_wheel(int_spin(*map(int, r["patience"]), 0))
        self.min_delta = guard_wheel(SciSpinBox(*r["min_delta"], 0.0))
        self.restore_best = QtWidgets.QCheckBox("restore the best check")
        self.check_every = guard_wheel(int_spin(*map(int, r["check_every"]), 0))
        for w in (self.max_steps, self.max_epochs, self.patience):
            w.setSpecialValueText("off")
        self.patience.setSuffix(" checks")
        self.check_every.setSuffix(" steps")
        self.max_steps.setToolTip("Pause at this step (off: no limit)")
        self.max_epochs.setToolTip("Pause after this many passes over the training set (off: no limit)")
        self.target_loss.setToolTip("Pause once the full training loss (f on a landscape) is at or below "
                                    "this (off: never)")
        self.patience.setToolTip("Early stopping: pause after this many checks in a row whose test loss is "
                                 "not better than the best (off: never)")
        self.min_delta.setToolTip("Early stopping: a test loss counts as better when it is lower than the "
                                  "best by more than this")
        self.restore_best.setToolTip("Early stopping: rewind the run to the check with the best test loss "
                                     "(the steps after it are dropped)")
        self._stop_tips = {k: w.toolTip() for k, w in self._stop_fields().items()}
        form.addRow("max steps", self.max_steps)
        form.addRow("max epochs", self.max_epochs)
        form.addRow("target loss", self.target_loss)
        form.addRow("patience", self.patience)
        form.addRow("min delta", self.min_delta)
        form.addRow(self.restore_best)
        form.addRow("check every", self.check_every)
        for w in self._stop_fields().values():
            signal = w.toggled if isinstance(w, QtWidgets.QCheckBox) else w.valueChanged
            signal.connect(lambda *_: self._edited())

    def _stop_fields(self) -> dict[str, QtWidgets.QWidget]:
        """The field of each `[stop]` key."""
        return {k: getattr(self, k) for k in stopping.DEFAULTS}

    # ----------------------------------------------------------------- loading the config
    def reset(self) -> None:
        """The session was rebuilt or replaced: show its config (a refused edit is gone with it)."""
        self.show_error("")
        self.load(self.session.config)

    def refresh(self) -> None:
        """Show settings that changed without the form: a timeline's edit while playing, a fix
        applied from the Diagnostics panel (nothing to do, and nothing repainted, otherwise)."""
        if self.session.config is not self._loaded:
            self.load(self.session.config)

    def load(self, cfg: dict) -> None:
        self._loaded = cfg
        self._loading = True
        try:
            self._load(cfg)
        finally:
            self._loading = False
        self.header.show_meta(cfg["meta"], *timeline.title(self.session.run_config))

    def _load(self, cfg: dict) -> None:
        task, net, tr = cfg["task"], cfg["network"], cfg["training"]
        chosen = problems.problem_class(task["kind"])
        function = not chosen.has_data
        _select(self.kind, task["kind"])
        self.task_name.clear()
        for key, item in chosen.tasks.items():
            self.task_name.addItem(item.title, key)
        own = not function and task["name"] == datasets.OWN
        if own:  # own data (File → Import data, or edit points on the map): listed while it is the task
            self.task_name.addItem("Your data", datasets.OWN)
        _select(self.task_name, task["name"])
        self.thumbs.set_items(task["kind"])
        self.thumbs.select(task["name"])
        if function:
            land = chosen.tasks[task["name"]]
            self.task_info.setText(f"{land.formula}  —  {land.description}")
        else:
            self.task_info.setText(datasets.task_info(task).description)
        for r in self._rows_function:
            self.task_form.setRowVisible(r, function)
        for r in self._rows_dataset:
            self.task_form.setRowVisible(r, not function)
        if function:
            self.start_x.setValue(task["start"][0])
            self.start_y.setValue(task["start"][1])
        else:
            self._load_classes(task)
            self.n_samples.setValue(task["n_samples"])
            self.noise.setValue(task["noise"])
            for w, tip in self._generated_tips.items():  # own data has its points, not a generator's
                w.setEnabled(not own)
                w.setToolTip("Your data's own points: add or remove them on the map (edit points)" if own else tip)
            self.test_fraction.setValue(task["test_fraction"])
        self.inputs.set_inputs(net["inputs"])
        self.layers.set_network(net["hidden"], net["activation"], net["dropout"])
        if isinstance(net["activation"], list):
            self.activation.setCurrentIndex(-1)  # shows MIXED
        else:
            _select(self.activation, net["activation"])
        _select(self.init, net["init"])
        self.init_std.setValue(net["init_std"])
        self.init_std.setEnabled(net["init"] == "normal")
        self.init_std.setToolTip("Std of the 'normal' init: small values make gradients vanish, big ones "
                                 "explode" if net["init"] == "normal" else "Only used by the 'normal' init")
        self.batch_norm.setChecked(net["batch_norm"])
        self.loss.clear()
        info = None if function else datasets.task_info(task)
        for name in losses.LOSSES:
            if info is None or _fits(name, info):
                self.loss.addItem(name, name)
        _select(self.loss, cfg["loss"]["name"])
        _select(self.optimizer, cfg["optimizer"]["name"])
        self.hyper.set_optimizer(cfg["optimizer"]["name"], cfg["optimizer"])
        bs = tr["batch_size"]
        _select(self.batch_mode, "full" if bs == "full" else "one" if bs == 1 else "mini")
        if bs not in ("full", 1):
            self.batch_size.setValue(bs)
        self.batch_size.setEnabled(bs not in ("full", 1) and not function)
        for k in ("l1", "l2", "clip_norm", "clip_value"):
            getattr(self, k).setValue(tr[k])
        self.schedule.load(cfg["schedule"])
        self.seed.setValue(cfg["seed"])
        # What does not apply to a landscape stays visible (so it can be found) but greyed, saying why.
        for w in (self.network_box, self.batch_row, self.l1, self.l2):
            w.setEnabled(not function)
            w.setToolTip(NOT_ON_LANDSCAPE if function else "")
        # "Network and loss  (datasets only)" made the panel 247 px wide at least, clipped at 1280x720
        self.network_box.setTitle("Network (datasets only)" if function else "Network and loss")
        self._load_stop(cfg["stop"], function)

    def _load_classes(self, task: dict) -> None:
        name = task["name"]
        own = datasets.task_info(task)
        lo, hi = datasets.CLASS_RANGES.get(name, (own.n_classes, own.n_classes))
        self.classes.setRange(lo, hi)
        self.classes.setValue(own.n_classes)
        self.classes.setSpecialValueText("none" if hi == 0 else "")
        self.classes.setEnabled(lo < hi)
        settable = ", ".join(f"{datasets.DATASETS[n].title.lower()} ({a} to {b})"
                             for n, (a, b) in datasets.CLASS_RANGES.items())
        if lo < hi:
            what = "spiral arms" if name == "spiral" else "clouds, one per class"
            tip = (f"Number of classes, {lo} to {hi} ({what}). More than two need one output per class "
                   f"and the cross-entropy loss, which is then chosen.")
        elif hi == 0:
            tip = f"{own.title} is a regression set: it has no classes."
        else:
            tip = f"{own.title} has its own {hi} classes; the number can be set for {settable}."
        self.classes.setToolTip(tip)

    def _load_stop(self, stop: dict[str, Any], function: bool) -> None:
        for k, w in self._stop_fields().items():
            if isinstance(w, QtWidgets.QCheckBox):
                w.setChecked(stop[k])
            else:
                w.setValue(stop[k])
        self.check_every.setSpecialValueText("every step" if function else "each epoch")
        self.check_every.setToolTip("Steps between looks at the target loss and early stopping (0: "
                                    + ("every step)" if function else "once an epoch)"))
        for k in ("max_epochs", "patience", "min_delta", "restore_best"):  # what needs epochs, a test set
            w = getattr(self, k)
            # min delta and restore best only matter to early stopping
            w.setEnabled(not function and (k in ("max_epochs", "patience") or stop["patience"] > 0))
            w.setToolTip(NO_EPOCHS if function else self._stop_tips[k])
        on = [f"step {stop['max_steps']:,}" if stop["max_steps"] else "",
              f"{stop['max_epochs']:,} epochs" if stop["max_epochs"] and not function else "",
              f"loss ≤ {stop['target_loss']:g}" if stop["target_loss"] else "",
              "early stopping" if stop["patience"] and not function else ""]
        on = [t for t in on if t]
        self.stop_box.set_summary("off" if not on else ", ".join(on) if len(on) < 3 else f"{len(on)} on")

    # ----------------------------------------------------------------- editing
    def _raw(self, what: str) -> dict:
        """A raw config from the fields; `what` says which field changed when that needs care."""
        cur = self.session.config
        kind = self.kind.currentData()
        chosen = problems.problem_class(kind)  # the kind the form shows (no run of it exists yet)
        name = self.task_name.currentData()
        registry = chosen.tasks
        # A new kind starts from its usual task; so does an edit after a refused switch of kind, when
        # the name list still holds the other kind's tasks.
        # The set's own number of classes, unless the form shows the classes of this very set.
        keep_classes = what not in ("kind", "task_name") and name == cur["task"]["name"]
        if what == "kind" or (name not in registry and name != datasets.OWN):
            name = chosen.default_task
        task: dict[str, Any] = {"kind": kind, "name": name}
        if chosen.traces_path and what not in ("kind", "task_name"):  # its start point
            task["start"] = [self.start_x.value(), self.start_y.value()]  # else: the landscape's own
        elif name == datasets.OWN:  # the points stay; of the data fields only the test share applies
            task = dict(cur["task"], test_fraction=self.test_fraction.value())
        elif chosen.has_data:
            task.update(n_samples=self.n_samples.value(), noise=self.noise.value(),
                        test_fraction=self.test_fraction.value())
            if keep_classes:
                task["classes"] = self.classes.value()
            if what == "regenerate":
                task["data_seed"] = random.randrange(config_mod.MAX_SEED + 1)
            elif "data_seed" in cur["task"] and what != "kind":  # the regenerated points stay
                task["data_seed"] = cur["task"]["data_seed"]
        loss = self.loss.currentData() or cur["loss"]["name"]
        if chosen.has_data:
            info = datasets.task_info(task) if name == datasets.OWN else datasets.info_for(name, task.get("classes"))
            if what == "kind" or not _fits(loss, info):
                loss = config_mod.default_loss(info)  # e.g. a third spiral arm needs cross-entropy
        hidden = self.layers.hidden()
        # a layer added or removed: the per-layer values follow the layers (config.with_hidden)
        resized = (config_mod.with_hidden(cur, hidden)["network"]
                   if len(hidden) != len(cur["network"]["hidden"]) else None)
        if what == "activation":  # the combo that sets every layer
            activation = self.activation.currentData()
        elif resized is not None:
            activation = resized["activation"]
        else:
            activation = config_mod.per_layer_value(self.layers.activations(), self.activation.currentData())
        dropout = resized["dropout"] if resized is not None else config_mod.per_layer_value(self.layers.dropouts(), 0.0)
        mode = self.batch_mode.currentData()
        opt_name = self.optimizer.currentData()
        return {
            "seed": self.seed.value(),
            "meta": dict(cur["meta"]),
            "classroom": dict(cur["classroom"]),  # set in View → Classroom mode, not in this form
            "task": task,
            "network": {"hidden": hidden, "activation": activation, "inputs": self.inputs.inputs(),
                        "init": self.init.currentData(), "init_std": self.init_std.value(),
                        "batch_norm": self.batch_norm.isChecked(), "dropout": dropout},
            "loss": {"name": loss},
            # a new optimizer starts from its own (torch) defaults, not the old one's values
            "optimizer": {"name": opt_name} if what == "optimizer_name" else self.hyper.values(),
            "training": {"batch_size": {"full": "full", "one": 1}.get(mode, self.batch_size.value()),
                         "l1": self.l1.value(), "l2": self.l2.value(),
                         "clip_norm": self.clip_norm.value(), "clip_value": self.clip_value.value()},
            "schedule": self.schedule.values(),
            "stop": {k: w.isChecked() if isinstance(w, QtWidgets.QCheckBox)
                     else int(w.value()) if k in stopping.INTEGER_KEYS else w.value()
                     for k, w in self._stop_fields().items()},
        }

    def _edited(self, what: str = "") -> None:
        if self._loading:
            return
        try:
            cfg = config_mod.resolve(self._raw(what))
        except config_mod.ConfigError as e:
            self.show_error(f"{e}  (the run keeps its last valid settings)")
            return
        self.show_error("")
        if cfg != self.session.config:
            self.holder.apply_config(cfg)
        self.load(self.session.config)  # shows derived values (a new optimizer's defaults...)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.PaletteChange:  # light <-> dark
            color_error_label(self.error)
        super().changeEvent(event)

    def _reseed(self) -> None:
        self.seed.setValue(random.randrange(config_mod.MAX_SEED + 1))  # valueChanged applies it


def _pair(a: QtWidgets.QWidget, b: QtWidgets.QWidget) -> QtWidgets.QWidget:
    w = QtWidgets.QWidget()
    row = QtWidgets.QHBoxLayout(w)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(a, 1)
    row.addWidget(b, 1 if not isinstance(b, QtWidgets.QToolButton) else 0)
    return w


def _fits(loss: str, info: datasets.DatasetInfo) -> bool:
    try:
        datasets.label_format_for(loss, info)
        return True
    except ValueError:
        return False


