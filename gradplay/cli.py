"""The `gradplay` command: the desktop app by default, plus headless subcommands."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__

EPILOG = """\
commands:
  gradplay [PRESET_OR_CONFIG]                 open the app (default preset: spiral_tanh)
  gradplay run CONFIG --steps N --out DIR     train headless, write session.json + arrays.npz
  gradplay shot [PRESET_OR_CONFIG] --steps N --out FILE.png
                                              render the app window offscreen after N steps
  gradplay presets                            list the ready-made configs

PRESET_OR_CONFIG is a preset name (see `gradplay presets`) or a path to a TOML config.
"""


def _fail(msg: str, code: int = 2) -> int:
    print(f"gradplay: error: {msg}", file=sys.stderr)
    return code


def _progress(total: int, desc: str):
    """A progress bar on a terminal, nothing when piped (tqdm decides with disable=None)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", disable=None, file=sys.stderr, leave=False)


def cmd_run(args: argparse.Namespace) -> int:
    from .core import headless, io
    from .core.session import Session
    from .presets import resolve_source

    cfg = resolve_source(args.config)
    session = Session(cfg)
    with _progress(args.steps, "training") as bar:
        last = [0]

        def progress(done: int) -> None:
            bar.update(done - last[0])
            last[0] = done

        arrays = headless.record(session, args.steps, progress=progress)
        bar.update(session.step - last[0])
    try:
        io.write_run(args.out, session, arrays)
    except OSError as e:
        return _fail(f"cannot write to {args.out}: {e}", 1)
    if session.halted:
        print(session.halted, file=sys.stderr)
    if not args.quiet:
        loss = arrays["loss"]
        final = f"{loss[-1]:.6g}" if len(loss) else "n/a"
        print(f"{session.step} steps, final loss {final}; wrote {Path(args.out) / 'session.json'} "
              f"and arrays.npz")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from .presets import load_preset, preset_names

    for name in preset_names():
        meta = load_preset(name)["meta"]
        print(f"{name:28s} {meta['title']}")
    return 0


def cmd_shot(args: argparse.Namespace) -> int:
    from .gui.shot import take_shot

    size = None
    if args.size:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            return _fail(f"--size must look like 1600x1000, got {args.size!r}")
        size = (w, h)
    take_shot(args.source, args.steps, Path(args.out), size)
    print(f"wrote {args.out}")
    return 0


def cmd_gui(args: argparse.Namespace) -> int:
    from .gui.platform_check import check_display

    problem = check_display()
    if problem:
        return _fail(problem, 1)
    from .gui.app import run_app

    return run_app(args.source)


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
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("shot", help="render the app window offscreen to a PNG",
                       description="Train N steps offscreen and save a screenshot of the whole main "
                                   "window with every panel drawn.")
    s.add_argument("source", nargs="?", default=None, help="preset name or TOML config")
    s.add_argument("--steps", type=int, default=200, help="steps to train before the shot")
    s.add_argument("--out", required=True, help="PNG file to write")
    s.add_argument("--size", default=None, help="window size WxH, e.g. 1600x1000")
    s.set_defaults(func=cmd_shot)

    ps = sub.add_parser("presets", help="list the ready-made configs")
    ps.set_defaults(func=cmd_presets)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    commands = {"run", "shot", "presets"}
    # `gradplay spiral_tanh` opens the app on a preset: anything that is not a subcommand or option.
    if not argv or (argv[0] not in commands and not argv[0].startswith("-")):
        gui = argparse.ArgumentParser(prog="gradplay")
        gui.add_argument("source", nargs="?", default=None)
        args = gui.parse_args(argv)
        func = cmd_gui
    else:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        func = args.func
    if getattr(args, "steps", 1) is not None and getattr(args, "steps", 1) < 0:
        return _fail("--steps must be >= 0")
    from .core.config import ConfigError
    from .core.io import SessionFileError

    try:
        return func(args)
    except (ConfigError, SessionFileError) as e:
        return _fail(str(e))
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
