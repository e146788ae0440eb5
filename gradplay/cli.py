"""The `gradplay` command: the desktop app by default, plus headless subcommands."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__

EPILOG = """\
commands:
  gradplay [PRESET_OR_CONFIG] [--play]        open the app (default preset: spiral_tanh; --play:
                                              start training at once)
  gradplay open TEXT_OR_FILE [--play]         the same, also on a gradplay:// link or a pasted setup
                                              (Edit → Copy setup), with any words around the link
  gradplay run CONFIG --steps N --out DIR     train headless, write session.json + arrays.npz
                          [--export DIR]      ... and export its plots and data into DIR
  gradplay export SESSION --out DIR [--formats png,svg,csv,gif,py,summary]
                                              render a saved session's exports without a screen
  gradplay shot [PRESET_OR_CONFIG] --steps N --out FILE.png
                                              render the app window offscreen after N steps
  gradplay presets                            list the ready-made configs
  gradplay install-desktop                    add gradplay to the application menu (Linux)
  gradplay bench [--gui] [--json] [--quick]   measure the engine's (or the window's) speed and memory

PRESET_OR_CONFIG is a preset name (see `gradplay presets`), a path to a TOML config, or (for the
app and `shot`) a saved session: a .gradplay file, a session folder or its session.json.
"""


MAX_SHOT = 8192  # pixels each way for `gradplay shot --size`


def _fail(msg: str, code: int = 2) -> int:
    if sys.stderr is not None:  # `gradplay ... 2>&-` closes it: the exit code still tells
        try:
            print(f"gradplay: error: {msg}", file=sys.stderr)
        except OSError:
            pass
    return code


def _progress(total: int, desc: str):
    """A progress bar on a terminal, nothing when piped (tqdm decides with disable=None)."""
    from tqdm import tqdm

    if sys.stderr is None:  # stderr closed (2>&-): no bar, and nothing that writes to None
        return tqdm(total=total, disable=True)
    return tqdm(total=total, desc=desc, unit="step", disable=None, file=sys.stderr, leave=False)


def cmd_run(args: argparse.Namespace) -> int:
    from .core import cost, headless, io
    from .core.fast.loop import MAX_CHUNK  # (a chunk of `gradplay run` grows to one kernel call)
    from .core.session import Session
    from .source import classify

    src = classify(args.config)
    if src.is_session:
        return _fail(f"{args.config} is a saved session, not a config: `gradplay run` trains a TOML "
                     f"config or a preset; open the session in the app to continue it")
    cfg = _with_timeline(src.load_config(), args.set or [], args.steps)
    try:
        formats = _formats(args.export_formats) if args.export else None
    except ValueError as e:
        return _fail(str(e))
    problem = _writable_folder(Path(args.out))  # before training: hours were lost on a read-only --out
    if problem:
        return _fail(f"cannot write to {args.out}: {problem}", 1)
    heavy = cost.warning(cfg, args.steps)
    if cost.beyond_memory(cfg):
        return _fail(f"not enough memory: {heavy}", 1)
    if heavy and not args.quiet and sys.stderr is not None:
        print(f"warning: {heavy}", file=sys.stderr)
    session = Session(cfg)
    problem = cost.arrays_problem(session, args.steps)
    if problem:
        return _fail(problem, 1)
    # With --export the full-set losses are evaluated ~60 times along the run, as the app does once
    # a frame, so the exported loss plot has train and test curves (training itself is unaffected).
    chunk = max(1, args.steps // 60) if args.export else 256
    if args.export:
        session.evaluate()
    interrupted = _Interrupt()
    with _progress(args.steps, "training") as bar, interrupted:
        last = [0]

        def progress(done: int) -> bool:
            bar.update(done - last[0])
            last[0] = done
            if args.export and done % chunk == 0:
                session.evaluate()
            return not interrupted.seen

        # Ctrl+C is looked at every `every` steps (at most 256, a divisor of the evaluation chunk);
        # without --export they grow while a chunk takes under 50 ms: 235 calls into the compiled
        # loop for 60,000 steps of bench (a) cost 8 % of the run (each call loads the optimizer)
        every = next(d for d in range(min(chunk, 256), 0, -1) if chunk % d == 0)
        arrays = headless.record(session, args.steps, progress=progress, chunk=every,
                                 grow_to=0 if args.export else MAX_CHUNK)
        bar.update(session.step - last[0])
    try:
        io.write_run(args.out, session, arrays)
    except OSError as e:
        return _fail(f"cannot write to {args.out}: {e}", 1)
    if interrupted.seen:
        _fail(f"interrupted: saved the {session.step:,} steps done to {Path(args.out) / 'session.json'} "
              f"and arrays.npz", 130)
        return 130
    if session.halted:
        print(session.halted, file=sys.stderr)
    elif session.stopped and not args.quiet:
        print(session.stopped)
    if not args.quiet:
        loss = arrays["loss"]
        final = f"{loss[-1]:.6g}" if len(loss) else "n/a"
        print(f"{session.step} steps, final loss {final}; wrote {Path(args.out) / 'session.json'} "
              f"and arrays.npz")
    if args.export:
        return _export(session, Path(args.export), formats, 2.0, None, None, args.quiet)
    return 0


def _writable_folder(path: Path) -> str | None:
    """Why `path` cannot take the run's files (None if it can): created if missing, then probed."""
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        return e.strerror or str(e)
    return None


class _Interrupt:
    """Ctrl+C during `gradplay run`: finish the step in progress, then stop and save what was done
    (the first Ctrl+C; a second one interrupts at once)."""

    def __init__(self) -> None:
        self.seen = False
        self._old = None

    def __enter__(self) -> _Interrupt:
        import signal

        def handler(signum, frame) -> None:
            if self.seen:
                raise KeyboardInterrupt
            self.seen = True

        try:
            self._old = signal.signal(signal.SIGINT, handler)
        except ValueError:  # not the main thread
            self._old = None
        return self

    def __exit__(self, *exc) -> None:
        import signal

        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def _with_timeline(cfg: dict, sets: list[str], steps: int) -> dict:
    """The config with `--set key=VALUE@STEP` edits on its timeline; every entry must fall in the run."""
    from .core import config, timeline

    if sets:
        raw = dict(cfg, timeline=timeline.with_sets(cfg["timeline"], [timeline.parse_set(t) for t in sets]))
        cfg = config.resolve(raw)
    late = [e["step"] for e in cfg["timeline"] if e["step"] >= steps and not e.get("restart")]
    if late:
        raise config.ConfigError(f"timeline entry at step {late[0]} is past the run's {steps} steps "
                                 f"(steps count from 0; the last one is {steps - 1})")
    return cfg


def _formats(text: str) -> list[str]:
    """--formats png,svg,... -> the list, checked (ValueError names the unknown ones)."""
    from .gui.exporters import FORMATS

    wanted = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise ValueError(f"--formats takes a comma-separated list of {', '.join(FORMATS)}; "
                         f"got {text!r}")
    return wanted


def _export(session, out: Path, formats: list[str], scale: float, pixels, every, quiet: bool) -> int:
    """Render the exports of `session` into `out` without a screen; print what was written."""
    from .gui.exporters import export_session

    notes: list[str] = []
    with _progress(1000, "exporting") as bar:
        def progress(label: str, done: int, total: int) -> bool:
            bar.set_description(label.rstrip("…"), refresh=False)
            bar.update(int(1000 * done / max(total, 1)) - bar.n)
            return True

        try:
            written = export_session(session, out, formats, scale, pixels, every, progress, notes)
        except OSError as e:
            return _fail(f"cannot write to {out}: {e.strerror or e}", 1)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if not quiet:
        for path in written or []:
            print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from .source import classify

    try:
        formats = _formats(args.formats)
    except ValueError as e:
        return _fail(str(e))
    pixels = None
    if args.size:
        try:
            pixels = tuple(int(v) for v in args.size.lower().split("x"))
            if len(pixels) != 2 or min(pixels) < 16:
                raise ValueError
        except ValueError:
            return _fail(f"--size must look like 1600x1000 (at least 16 pixels each way), got {args.size!r}")
        if max(pixels) > MAX_SHOT:  # 100000x100000 peaked at 19.7 GB of 23
            return _fail(f"--size must be at most {MAX_SHOT}x{MAX_SHOT} pixels, got {args.size!r}")
    if not 0.25 <= args.scale <= 8:
        return _fail(f"--scale must be between 0.25 and 8, got {args.scale}")
    if args.every is not None and args.every < 1:
        return _fail(f"--every must be at least 1 step per frame, got {args.every}")
    src = classify(args.session)
    if not src.is_session:
        return _fail(f"{args.session} is a {src.kind}, not a saved session; to train it and export in one "
                     f"go use `gradplay run {args.session} --steps N --out DIR --export DIR`")
    session = src.load_session()
    return _export(session, Path(args.out), formats, args.scale, pixels, args.every, args.quiet)


def cmd_presets(args: argparse.Namespace) -> int:
    from .presets import load_preset, preset_names

    for name in preset_names():
        meta = load_preset(name)["meta"]
        print(f"{name:28s} {meta['title']}")
    return 0


def cmd_shot(args: argparse.Namespace) -> int:
    from .gui.shot import take_shot

    if Path(args.out).suffix.lower() != ".png":  # it wrote PNG bytes into s.jpg
        return _fail(f"--out must name a .png file (the shot is a PNG), got {args.out!r}")
    size = None
    if args.size:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            return _fail(f"--size must look like 1600x1000, got {args.size!r}")
        size = (w, h)
        if not (1 <= w <= MAX_SHOT and 1 <= h <= MAX_SHOT):  # Qt crashes on giant offscreen windows
            return _fail(f"--size must be between 1x1 and {MAX_SHOT}x{MAX_SHOT} pixels, got {args.size!r}")
    try:
        take_shot(args.source, args.steps, Path(args.out), size, dock=args.dock, layout=args.layout)
    except RuntimeError as e:  # the window cannot take that size
        return _fail(str(e))
    except OSError as e:
        return _fail(f"cannot write {args.out}: {e.strerror or e}", 1)
    print(f"wrote {args.out}")
    return 0


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from .desktop import install

    try:
        written = install(Path(args.data_dir) if args.data_dir else None)
    except OSError as e:
        return _fail(f"cannot write the desktop entry: {e}", 1)
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    if args.gui:
        from .gui.bench import main as bench_main
    else:
        from .bench import main as bench_main
    return bench_main(as_json=args.json, quick=args.quick)


def cmd_gui(args: argparse.Namespace) -> int:
    from .gui.platform_check import check_display

    problem = check_display()
    if problem:
        return _fail(problem, 1)
    from .gui.app import run_app

    return run_app(args.source, play=args.play)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gradplay", description="A desktop playground that makes gradients visible.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"gradplay {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser(
        "run", help="train headless and write session.json + arrays.npz",
        description="Train N optimizer steps without a display and write DIR/session.json (format, "
                    "resolved config, steps, versions, state) and DIR/arrays.npz. Function tasks: "
                    "trajectory (N+1, 2) and loss (N+1,). Dataset tasks: x_train, y_train, x_test, "
                    "y_test, init.W1.../final.W1..., loss (N,) batch loss before each update, "
                    "grad_norm (N, L) per-layer gradient norm before clipping, batch_index (N, B) "
                    "when batches are sampled. The same seed gives bit-identical arrays.")
    r.add_argument("config", help="TOML config file or preset name")
    r.add_argument("--steps", type=int, required=True, help="optimizer steps to train (N)")
    r.add_argument("--out", required=True, help="output folder (created if missing)")
    r.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    r.add_argument("--set", action="append", metavar="KEY=VALUE@STEP",
                   help="change a setting from a step on, e.g. optimizer.lr=0.3@1000 (repeatable; added to "
                        "the config's [[timeline]])")
    r.add_argument("--export", metavar="DIR", default=None,
                   help="after the run, export its plots and data into DIR (as `gradplay export`)")
    r.add_argument("--export-formats", metavar="LIST", default="png,svg,csv,gif,py,summary",
                   help="formats for --export (default: all of png,svg,csv,gif,py,summary)")
    r.set_defaults(func=cmd_run)

    e = sub.add_parser(
        "export", help="render a saved session's plots and data without a screen",
        description="Export a saved session (a .gradplay file, or a folder with session.json + "
                    "arrays.npz such as `gradplay run --out` writes) into DIR without a display. "
                    "Formats: png (each panel), svg (each panel, text kept as text), csv "
                    "(history.csv, evals.csv, timeline.csv: the edits of the run), gif (landscape.gif: "
                    "the path on the landscape, or "
                    "the decision map as the network learns, one frame every k steps), py "
                    "(train_torch.py: the same run in PyTorch), summary (summary.png: all panels "
                    "and the config on one page).")
    e.add_argument("session", help="saved session: .gradplay file or session folder")
    e.add_argument("--out", required=True, help="output folder (created if missing)")
    e.add_argument("--formats", default="png,svg,csv,gif,py,summary",
                   help="comma-separated list (default: all of png,svg,csv,gif,py,summary)")
    e.add_argument("--size", default=None,
                   help="every panel PNG at WxH pixels, e.g. 1600x1200 (default: each panel's own "
                        "layout size × --scale)")
    e.add_argument("--scale", type=float, default=2.0,
                   help="text and line scale of pictures, as a screen's pixel ratio (default 2)")
    e.add_argument("--every", type=int, default=None, help="GIF: steps per frame (default: ~100 frames)")
    e.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    e.set_defaults(func=cmd_export)

    s = sub.add_parser("shot", help="render the app window offscreen to a PNG",
                       description="Train N steps offscreen and save a screenshot of the whole main "
                                   "window with every panel drawn.")
    s.add_argument("source", nargs="?", default=None, help="preset name or TOML config")
    s.add_argument("--steps", type=int, default=200, help="steps to train before the shot")
    s.add_argument("--out", required=True, help="PNG file to write")
    s.add_argument("--size", default=None, help="window size WxH, e.g. 1600x1000")
    s.add_argument("--dock", default=None, help="bring this panel to the front first (e.g. race, "
                                                "weightspace, diagnostics, curvature, story)")
    s.add_argument("--layout", choices=("full", "simple"), default="full",
                   help="the window's layout (View → Simple / Full layout)")
    s.set_defaults(func=cmd_shot)

    ps = sub.add_parser("presets", help="list the ready-made configs")
    ps.set_defaults(func=cmd_presets)

    d = sub.add_parser("install-desktop", help="add gradplay to the desktop's application menu (Linux)",
                       description="Write gradplay.desktop and its icon into ~/.local/share (or "
                                   "$XDG_DATA_HOME), so desktop environments list gradplay among "
                                   "their applications.")
    d.add_argument("--data-dir", default=None, help="write under this folder instead of ~/.local/share")
    d.set_defaults(func=cmd_install_desktop)

    b = sub.add_parser("bench", help="measure engine speed, memory and start-up",
                       description="Headless engine throughput (optimizer steps/s, median of several "
                                   "runs after a warm-up) for fixed configs (a)-(d), on the fast path "
                                   "and on the numpy reference path, with the targets beside them; "
                                   "resident memory after a long run; start-up cost of the engine.")
    b.add_argument("--gui", action="store_true",
                   help="measure the real window instead (offscreen, 1600x1000, every panel, config (a) at "
                        "full speed): frames/s, steps/s while drawing, p50/p99 time between frames, first "
                        "frame, memory after 1,000,000 steps, and where a frame's time goes")
    b.add_argument("--json", action="store_true", help="print the results as JSON")
    b.add_argument("--quick", action="store_true", help="fewer and shorter runs (a smoke test)")
    b.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    commands = {"run", "shot", "presets", "export", "bench", "install-desktop"}
    # `gradplay spiral_tanh` opens the app on a preset: anything that is not a subcommand or option;
    # `gradplay open SOURCE` says the same in words (and takes a pasted setup's text).
    named = bool(argv) and argv[0] == "open"
    if named or not argv or argv[0] == "--play" or (argv[0] not in commands and not argv[0].startswith("-")):
        gui = argparse.ArgumentParser(
            prog="gradplay open" if named else "gradplay",
            description="Open the app on a preset, a TOML config, a saved session, a gradplay:// link, or "
                        "the text Edit → Copy setup wrote (pasted as one argument, in quotes).")
        gui.add_argument("source", nargs=None if named else "?", default=None)
        gui.add_argument("--play", action="store_true", help="start training as soon as the window opens")
        args = gui.parse_args(argv[1:] if named else argv)
        func = cmd_gui
    else:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        func = args.func
    if getattr(args, "steps", 1) is not None and getattr(args, "steps", 1) < 0:
        return _fail("--steps must be >= 0")
    if getattr(args, "out", None) is not None and not str(args.out).strip():
        return _fail("--out is empty: name the folder or file to write (it wrote into the current folder)")
    from .core.config import ConfigError
    from .core.io import SessionFileError

    try:
        return func(args)
    except (ConfigError, SessionFileError) as e:
        return _fail(str(e))
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:  # `gradplay presets | head`: the reader left; say nothing more
        try:
            sys.stdout = open(os.devnull, "w")  # stays open until exit: Python flushes it then
        except OSError:
            pass
        return 0
    except MemoryError as e:  # e.g. --steps 10**11: numpy cannot allocate the per-step arrays
        return _fail(f"not enough memory for this request ({e}); try fewer --steps or a smaller network", 1)
    except OSError as e:  # printing to a full disk (`> /dev/full`); commands handle their own files
        sys.stdout = open(os.devnull, "w")
        return _fail(f"cannot write {e.filename or 'the output'}: {e.strerror or e}", 1)
    finally:
        _flush_stdout()


def _flush_stdout() -> None:
    """Flush what the command printed now, so a full disk (`> /dev/full`) is one line on stderr and
    exit status 1, not a traceback at interpreter exit."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        sys.stdout = open(os.devnull, "w")  # the reader left: say nothing more
    except OSError as e:
        _fail(f"cannot write the output: {e.strerror or e}", 1)
        sys.stdout = open(os.devnull, "w")
        raise SystemExit(1) from None


if __name__ == "__main__":
    sys.exit(main())
