"""Diagnostics in plain words, with one-click fixes, and a gradient check.

- One badge per layer, in the layer's colour (as in the Gradients panel): its gradient norm, its size
  relative to the last layer's (vanishing ↓ / exploding ↑), and its share of dead ReLUs or saturated
  sigmoid/tanh units.
- One card per finding of `core.diagnostics` (a halt on NaN/inf first, then warnings): the
  sentence, and its suggestions as buttons that apply `config.with_changes(...)` to the run.
- "Check gradients": backpropagation against finite differences for the current network and batch,
  the worst relative error per layer in a table (green below 1e-6). Nets above SYNC_PARAMS
  parameters are checked in a worker thread, with a Cancel button.

The checks run at most every `slow_interval` seconds while the panel is shown (plus once after the
last frame, so a paused run is never described by a stale state).
"""
from __future__ import annotations

import html
import math
import time

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ...core import config as config_mod
from ...core import curvature, diagnostics, gradcheck
from ...core.diagnostics import Finding, pow10
from ...core.problem import LandscapeProblem
from .. import workers
from ..colors import LAYER_COLORS, layer_color
from ..number_format import fmt
from ..theme import theme
from ..widgets.banner import COLORS as BANNER_COLORS
from ..widgets.flow import FlowLayout
from .base import Panel, SessionHolder

SYNC_PARAMS = 100          # gradient checks of bigger nets run in a worker thread
MAX_PER_BLOCK = 400        # ...and nets above SAMPLE_PARAMS check this many random entries per block
SAMPLE_PARAMS = 4000
GREEN_BELOW = 1e-6         # the table's "agrees" colour
LAM_EVERY = 2.0            # seconds between λmax estimates for the stability check on networks
TITLES = {"halt": "Training stopped", "gradient_flow": "Gradient flow", "dead_relu": "Dead ReLUs",
          "saturation": "Saturated units", "stability": "Learning rate vs curvature"}
ORDER = ("halt", "gradient_flow", "dead_relu", "saturation", "stability")
OK_COLOR = "#3aa655"
ERR_TINTS = {"good": QtGui.QColor(58, 166, 85, 90), "close": QtGui.QColor(201, 162, 39, 110),
             "bad": QtGui.QColor(214, 51, 108, 120)}


def _dark(w: QtWidgets.QWidget) -> bool:
    return w.palette().color(QtGui.QPalette.ColorRole.Window).lightness() < 128


class FindingCard(QtWidgets.QFrame):
    """One finding: a headline with its level, the sentence, and the fixes as buttons."""

    apply = QtCore.Signal(dict)  # config.with_changes sections of the clicked suggestion

    def __init__(self, key: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.setObjectName("findingCard")
        self.head = QtWidgets.QLabel(wordWrap=True)
        self.head.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.text = QtWidgets.QLabel(wordWrap=True)
        self.text.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fixes = QtWidgets.QWidget()
        self.fix_row = FlowLayout(self.fixes)
        self.buttons: list[QtWidgets.QPushButton] = []
        col = QtWidgets.QVBoxLayout(self)
        col.setContentsMargins(8, 5, 8, 6)
        col.setSpacing(3)
        col.addWidget(self.head)
        col.addWidget(self.text)
        col.addWidget(self.fixes)
        self.finding: Finding | None = None
        self._shown_fixes: list[str] = []

    def show_finding(self, f: Finding) -> None:
        self.finding = f
        dark = _dark(self)
        title = TITLES.get(f.key, f.key)
        if f.level == "warning":  # a card that stands out, with the fixes
            fg, bg = BANNER_COLORS[("warning", dark)]
            self.setStyleSheet(f"QFrame#findingCard {{ background: {bg}; border-radius: 4px; }}"
                               f"QFrame#findingCard QLabel {{ color: {fg}; }}")
            self.head.setText(f"⚠ <b>{title}</b>")
            self.text.setText(f.message)
        else:  # all is well (or does not apply): one quiet line
            icon = f"<span style='color:{OK_COLOR}'>✓</span>" if f.level == "ok" else "–"
            self.setStyleSheet("")
            self.head.setText(f"{icon} <b>{title}</b>: {html.escape(f.message)}")
        self.text.setVisible(f.level == "warning")
        texts = [t for t, _ in f.suggestions]
        if texts != self._shown_fixes:  # buttons are rebuilt only when the suggestions change
            for b in self.buttons:
                self.fix_row.removeWidget(b)
                b.deleteLater()
            self.buttons = []
            for text, changes in f.suggestions:
                b = QtWidgets.QPushButton(text)
                b.setToolTip("Apply this change to the run: " + _describe(changes))
                b.clicked.connect(lambda _=False, c=changes: self.apply.emit(c))
                self.fix_row.addWidget(b)
                self.buttons.append(b)
            self._shown_fixes = texts
        self.fixes.setVisible(bool(self.buttons) and f.level == "warning")


def _describe(changes: dict) -> str:
    return ", ".join(f"[{sec}] " + ", ".join(f"{k} = {v}" for k, v in kv.items())
                     for sec, kv in changes.items())


class DiagnosticsPanel(Panel):
    """Per-layer badges, findings with fixes, and the gradient check."""

    title = "Diagnostics"
    name = "diagnostics"
    exportable = False  # interactive: a fresh copy for File → Export would show nothing of it
    slow_interval = 0.5

    def __init__(self, holder: SessionHolder, parent: QtWidgets.QWidget | None = None):
        super().__init__(holder, parent)
        self.info = self.summary_label()
        self.badge_box = QtWidgets.QWidget()
        self.badge_row = FlowLayout(self.badge_box)
        self.badges: list[QtWidgets.QLabel] = []
        self.cards = {key: FindingCard(key) for key in ORDER}
        for card in self.cards.values():
            card.apply.connect(self.apply_suggestion)
            card.hide()
        self.error = QtWidgets.QLabel(wordWrap=True)
        self.error.setStyleSheet(f"color: {LAYER_COLORS[2]};")
        self.error.hide()

        # The gradient check
        box = QtWidgets.QGroupBox("Gradient check: backpropagation vs finite differences")
        self.check_button = QtWidgets.QPushButton("Check gradients")
        self.check_button.setToolTip("Compare each gradient backpropagation computes with a finite-difference "
                                     "estimate (L(θ + h) − L(θ − h) over 2h, 4th-order), on the current batch")
        self.check_button.clicked.connect(self.check_gradients)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_check)
        self.cancel_button.hide()
        self.check_progress = QtWidgets.QProgressBar()
        self.check_progress.setRange(0, 0)  # busy until the check reports its first entry
        self.check_progress.setMaximumWidth(120)
        self.check_progress.hide()
        self.check_status = QtWidgets.QLabel(wordWrap=True)
        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["layer", "blocks", "entries checked", "max relative error"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.hide()
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.check_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.check_progress)
        row.addStretch(1)
        gl = QtWidgets.QVBoxLayout(box)
        gl.setContentsMargins(8, 6, 8, 8)
        gl.addLayout(row)
        gl.addWidget(self.check_status)
        gl.addWidget(self.table)
        self.table_key = QtWidgets.QLabel("green: below 1e−6, they agree · amber: below 1e−3, a kink (ReLU at 0, "
                                          "hinge, L1) inside the step or a gradient too small to resolve · red: "
                                          "they disagree", wordWrap=True)
        self.table_key.setProperty("muted", True)
        self.table_key.hide()
        gl.addWidget(self.table_key)

        body = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(body)
        col.setContentsMargins(6, 6, 6, 6)
        col.setSpacing(6)
        col.addWidget(self.info)
        col.addWidget(self.badge_box)
        for key in ORDER:
            col.addWidget(self.cards[key])
        col.addWidget(self.error)
        col.addWidget(box)
        col.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        self.scroll = scroll
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.setMinimumSize(300, 200)

        self.findings: dict[str, Finding] = {}
        self.result: gradcheck.GradCheck | None = None
        self.job: workers.Job | None = None
        self._state: tuple | None = None      # what the shown diagnosis describes
        self._lam: tuple = (None, -1, 0.0)    # (λmax, step, time) for the stability check on networks
        self._lam_vec: np.ndarray | None = None
        self._lam_every = LAM_EVERY
        self._later = QtCore.QTimer(self)     # one trailing check after the last throttled frame
        self._later.setSingleShot(True)
        self._later.timeout.connect(lambda: self.refresh(force=True))
        self.reset()

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QtCore.QEvent.Type.PaletteChange and hasattr(self, "cards"):
            self._state = None  # card and badge colours follow the light or dark theme
            QtCore.QTimer.singleShot(0, lambda: self.refresh(force=True))
        super().changeEvent(event)

    # ----------------------------------------------------------------- diagnosis
    def reset(self) -> None:
        self.cancel_check()
        self.result = None
        self.table.hide()
        self.table_key.hide()
        self.check_status.setText("")
        self._state = None
        self._lam = (None, -1, 0.0)
        self._lam_vec = None
        super().reset()

    def refresh(self, force: bool = False) -> None:
        if not self.isVisible():  # the window resets every panel at start-up, shown or not
            return
        s = self.session
        state = (id(s), s.step, id(s.config), s.halted)
        if state == self._state and not force:
            return
        new_session = self._state is None or state[0] != self._state[0]
        if self.due(force or new_session):
            self._later.stop()
            self.diagnose()
        elif self.isVisible():
            self._later.start(int(self.slow_interval * 1000))

    def on_screen_changed(self, visible: bool) -> None:
        """The window says the dock went behind a tab or came back: no trailing check while away."""
        if not visible:
            self._later.stop()

    def diagnose(self) -> list[Finding]:
        """Run every check on the current state and show it; returns the findings shown."""
        s = self.session
        self._state = (id(s), s.step, id(s.config), s.halted)
        with np.errstate(all="ignore"):
            found = [diagnostics.gradient_flow(s), diagnostics.dead_relus(s), diagnostics.saturation(s),
                     diagnostics.stability(s, self._lam_max(s))]
            halt = diagnostics.halt_advice(s)
        if halt is not None:
            found.insert(0, halt)
        self.findings = {f.key: f for f in found}
        shown = []
        exact = isinstance(s.problem, LandscapeProblem)  # a landscape's λmax is exact for any optimizer
        for key in ORDER:
            f = self.findings.get(key)
            card = self.cards[key]
            # n/a is shown only where it teaches something (adaptive optimizers have no fixed limit)
            visible = f is not None and (f.level != "n/a" or (key == "stability" and exact))
            if visible:
                card.show_finding(f)
                shown.append(f)
            card.setVisible(visible)
        self._badges(s)
        warnings = sum(f.level == "warning" for f in shown)
        self.info.setText(self._summary(s, warnings))
        return shown

    def _lam_max(self, s) -> float | None:
        """λmax for the stability check on a network trained with plain SGD, at most every LAM_EVERY
        seconds (warm-started power iteration); None elsewhere (the check needs none or decides n/a)."""
        if not s.problem.has_layers or s.config["optimizer"]["name"] != "sgd" or s.halted:
            return None
        lam, step, t = self._lam
        now = time.perf_counter()
        if lam is None or (step != s.step and now - t >= self._lam_every):
            v0 = self._lam_vec if self._lam_vec is not None and self._lam_vec.size == s.theta.size else None
            with np.errstate(all="ignore"):  # warm-started from the last vector: a few iterations do
                top = curvature.network_top_eigenvalue(s, iters=100 if v0 is None else 20, v0=v0)
            lam, self._lam_vec = top.value, top.vector
            cost = time.perf_counter() - now
            self._lam_every = max(LAM_EVERY, 20.0 * cost)  # at most ~5 % of the time on big nets
            self._lam = (lam, s.step, now)
        return lam

    def _summary(self, s, warnings: int) -> str:
        what = ("Landscape task: the parameters are the point (x, y), so the checks that apply are the "
                "learning-rate limit and the gradient check."
                if s.problem.traces_path else
                "Badges: each layer's gradient norm and its size relative to the last layer's.")
        verdict = (f"<span style='color:{OK_COLOR}'>nothing wrong found</span>" if warnings == 0 else
                   f"<b>{warnings} warning{'s' if warnings > 1 else ''}</b>")
        return f"<b>step {s.step}</b> · {verdict} · {what}"

    def _badges(self, s) -> None:
        L = s.problem.n_layers
        while len(self.badges) > L:
            b = self.badges.pop()
            self.badge_row.removeWidget(b)
            b.deleteLater()
        while len(self.badges) < L:
            b = QtWidgets.QLabel()
            b.setTextFormat(QtCore.Qt.TextFormat.RichText)
            self.badge_row.addWidget(b)
            self.badges.append(b)
        self.badge_box.setVisible(L > 0)
        if not L:
            return
        flow = self.findings.get("gradient_flow")
        norms = flow.details.get("norms") if flow else None
        ratios = flow.details.get("ratios") if flow else None
        dead = self.findings.get("dead_relu")
        sat = self.findings.get("saturation")
        dead_pl = dead.details.get("per_layer") if dead and dead.level != "n/a" else None
        sat_pl = sat.details.get("per_layer") if sat and sat.level != "n/a" else None
        warn_fg, warn_bg = BANNER_COLORS[("warning", _dark(self))]
        for i, b in enumerate(self.badges):
            color = layer_color(i)
            lines = [f"<span style='color:{color}'>■</span> <b>layer {i + 1}</b>"]
            bad, tips = False, []
            if norms is not None and i < len(norms):
                lines.append(f"‖g‖ {fmt(norms[i])}")
                r = ratios[i]
                if i == L - 1:
                    lines.append("reference")
                elif not np.isfinite(r):
                    lines.append("–")
                elif r < diagnostics.VANISHING_RATIO:
                    lines.append(f"{pow10(r)}× last · <b>vanishing ↓</b>")
                    bad = True
                elif r > diagnostics.EXPLODING_RATIO or norms[i] > diagnostics.EXPLODING_NORM:
                    lines.append(f"{pow10(r)}× last · <b>exploding ↑</b>")
                    bad = True
                else:
                    lines.append(f"{fmt(r, 2)}× last")
                tips.append(f"Layer {i + 1}'s gradient norm (geometric mean of recent steps) is "
                            f"{fmt(norms[i])}, {fmt(r)} times the last layer's.")
            if i < L - 1 and dead_pl is not None:
                frac = float(dead_pl[i])
                if frac >= 0.005:  # 0 % is the healthy norm: say nothing
                    lines.append(f"dead {frac:.0%}")
                bad |= frac > diagnostics.WARN_FRACTION
                tips.append(f"{frac:.0%} of its ReLUs output 0 on every training point.")
            if i < L - 1 and sat_pl is not None:
                frac = float(sat_pl[i])
                if frac >= 0.005:
                    lines.append(f"saturated {frac:.0%}")
                bad |= frac > diagnostics.WARN_FRACTION
                tips.append(f"{frac:.0%} of its outputs sit in the flat tails of the activation.")
            b.setText("<br>".join(lines))
            b.setToolTip(" ".join(tips))
            bg = f"background: {warn_bg}; color: {warn_fg};" if bad else ""
            b.setStyleSheet(f"QLabel {{ border: 2px solid {color}; border-radius: 5px; padding: 3px 6px; {bg} }}")

    # ----------------------------------------------------------------- fixes
    def apply_suggestion(self, changes: dict) -> None:
        """Apply one suggestion's config changes to the run through the controller."""
        try:
            cfg = config_mod.with_changes(self.session.config, **changes)
        except config_mod.ConfigError as e:
            self.error.setText(f"Cannot apply this change: {e}")
            self.error.show()
            return
        self.error.hide()
        self.holder.apply_config(cfg)
        self.refresh(force=True)

    # ----------------------------------------------------------------- gradient check
    def check_gradients(self) -> None:
        """Backprop vs finite differences now (small nets) or in a worker (bigger ones)."""
        self.cancel_check()
        s = self.session
        if isinstance(s.problem, LandscapeProblem):
            self._show_landscape_check(s)
            return
        sample = MAX_PER_BLOCK if s.theta.size > SAMPLE_PARAMS else None
        if s.theta.size <= SYNC_PARAMS:
            self._show_check(gradcheck.gradcheck(s, max_per_block=sample))
            return
        self.job = workers.start(gradcheck.gradcheck, workers.detached(s), max_per_block=sample)
        self.job.finished.connect(self._show_check)
        self.job.failed.connect(self._check_failed)
        self.job.cancelled.connect(self._check_cancelled)
        self.job.progress.connect(self._check_advanced)
        self._checking(True, f"Checking {s.theta.size} parameters at step {s.step} in the background…")

    def _check_advanced(self, done: int, total: int) -> None:
        self.check_progress.setRange(0, total)
        self.check_progress.setValue(done)

    def cancel_check(self) -> None:
        if self.job is not None:
            self.job.abandon()  # a result still on its way must not reach the view
            self.job = None
            self._checking(False, "Cancelled.")

    def _checking(self, busy: bool, text: str) -> None:
        self.check_progress.setRange(0, 0)
        self.check_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.check_progress.setVisible(busy)
        self.check_status.setText(text)

    def _check_failed(self, message: str) -> None:
        self.job = None
        self._checking(False, f"The check failed: {message}")

    def _check_cancelled(self) -> None:
        self.job = None
        self._checking(False, "Cancelled.")

    def _show_check(self, result: gradcheck.GradCheck) -> None:
        self.job = None
        self.result = result
        s = self.session
        batch = gradcheck.default_batch(s)
        where = "the full training set" if batch is None else f"the current batch of {len(batch)} points"
        self._checking(False, f"{result.message} (on {where}, h = 1e−4)")
        by_layer: dict[int, list[gradcheck.BlockCheck]] = {}
        for b in result.blocks:
            by_layer.setdefault(b.layer, []).append(b)
        rows = []
        for layer, blocks in sorted(by_layer.items()):
            checked, size = sum(b.checked for b in blocks), sum(b.size for b in blocks)
            kinks = sum(b.kinks for b in blocks)
            entries = f"{checked}" if checked == size else f"{checked} of {size} (sampled)"
            if kinks:
                entries += f", {kinks} near a kink"
            rows.append((f"layer {layer}", layer_color(layer - 1), ", ".join(b.name for b in blocks),
                         entries, float(result.layer_rel_err[layer - 1])))
        self._fill_table(rows)

    def _show_landscape_check(self, s) -> None:
        """Landscapes: the formula's ∇f against a 4th-order central difference of f at the point."""
        land, p = s.landscape, s.theta.astype(float)
        with np.errstate(all="ignore"):
            g = land.gradient(p)
            h = 1e-4 * max(1.0, float(np.max(np.abs(p))))
            num = np.zeros(2)
            for k in range(2):
                e = np.zeros(2)
                e[k] = h
                f = [land.value(p + m * e) for m in (2, 1, -1, -2)]
                num[k] = (-f[0] + 8 * f[1] - 8 * f[2] + f[3]) / (12 * h)
            floor = 1e-6 * max(1.0, abs(land.value(p)))
            rel = gradcheck.relative_error(g, num, floor)
        self.result = None
        worst = float(np.nanmax(rel))
        self._checking(False, f"The formula's gradient at ({fmt(p[0])}, {fmt(p[1])}) against finite "
                              f"differences of f: largest relative error {worst:.1e}.")
        fg = theme().fg
        self._fill_table([(name, fg, f"formula {fmt(g[k], 6)}", f"numeric {fmt(num[k], 6)}",
                           float(rel[k])) for k, name in enumerate(("∂f/∂x", "∂f/∂y"))])

    def _fill_table(self, rows: list[tuple[str, str, str, str, float]]) -> None:
        t = self.table
        t.setRowCount(len(rows))
        for r, (name, color, blocks, entries, err) in enumerate(rows):
            first = QtWidgets.QTableWidgetItem(f"■ {name}")
            first.setForeground(QtGui.QColor(color))
            t.setItem(r, 0, first)
            t.setItem(r, 1, QtWidgets.QTableWidgetItem(blocks))
            t.setItem(r, 2, QtWidgets.QTableWidgetItem(entries))
            cell = QtWidgets.QTableWidgetItem(_err_text(err))
            cell.setData(QtCore.Qt.ItemDataRole.UserRole, err)
            tier = "good" if err < GREEN_BELOW else "close" if err < gradcheck.RTOL_KINK else "bad"
            cell.setBackground(ERR_TINTS[tier])
            cell.setToolTip({"good": "agrees (below 1e−6)",
                             "close": "close: a kink (ReLU at 0, hinge, L1) inside the step or a tiny gradient",
                             "bad": "disagrees"}[tier])
            t.setItem(r, 3, cell)
        t.resizeColumnsToContents()
        t.horizontalHeader().setStretchLastSection(True)
        header = t.horizontalHeader().height()
        t.setFixedHeight(header + sum(t.rowHeight(r) for r in range(len(rows))) + 4)
        t.show()
        self.table_key.show()
        QtCore.QTimer.singleShot(0, lambda: self.scroll.ensureWidgetVisible(t, 0, 0))  # after the re-layout

    def table_errors(self) -> np.ndarray:
        """The relative errors the table shows, one per row (tests)."""
        return np.array([self.table.item(r, 3).data(QtCore.Qt.ItemDataRole.UserRole)
                         for r in range(self.table.rowCount())], dtype=float)

    def prepare_shot(self, steps: int = 0) -> None:
        """For `gradplay shot --dock diagnostics`: diagnose now and show a finished gradient check."""
        self.diagnose()
        s = self.session
        if isinstance(s.problem, LandscapeProblem):
            self._show_landscape_check(s)
        else:
            sample = MAX_PER_BLOCK if s.theta.size > SAMPLE_PARAMS else None
            self._show_check(gradcheck.gradcheck(s, max_per_block=sample))


def _err_text(err: float) -> str:
    if not math.isfinite(err):
        return fmt(err)
    if err == 0:
        return "0 (exact)"
    return fmt(err, 2)
