"""Random configs, valid and broken: resolve() returns a runnable config or raises ConfigError, nothing else.

Every generated config starts from legal choices (so many are valid and get trained), and most get one
mutation: a value replaced by junk (huge integers, NaN/inf, nested tables, unicode, TOML dates, deep
lists), a key deleted, an unknown key added. A config that resolves must build a Session that trains
5 steps without raising (a NaN/inf halt is allowed), keep one history row per step, resolve to itself
again and survive a TOML round trip. A ConfigError must be one short line naming the broken key.
"""
from __future__ import annotations

import copy
import datetime
import math
import os

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from gradplay.core import config, datasets, landscapes, losses, nn, optimizers
from gradplay.core.config import ConfigError
from gradplay.core.session import Session

N_RAW, N_TOML, N_TEXT = 400, 200, 200  # examples per test in CI (see tests/fuzz/conftest.py)


def budget(n: int) -> settings:
    profile = settings.get_profile(os.environ.get("GRADPLAY_FUZZ_PROFILE", "gradplay-ci"))
    return settings(profile, max_examples=max(1, round(n * float(os.environ.get("GRADPLAY_FUZZ_SCALE", "1")))))


# ------------------------------------------------------------------------------ legal choices
def _in(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.one_of(st.just(lo), st.just(hi), st.floats(lo, hi, allow_nan=False))


@st.composite
def legal_raw(draw) -> dict:
    """A raw config whose every value is legal on its own (choices may still clash with each other)."""
    raw: dict = {}
    if draw(st.booleans()):
        raw["seed"] = draw(st.integers(0, config.MAX_SEED))
    kind = draw(st.sampled_from(["dataset", "function"]))
    task: dict = {"kind": kind}
    if kind == "function":
        task["name"] = draw(st.sampled_from(list(landscapes.LANDSCAPES)))
        if draw(st.booleans()):
            task["start"] = [draw(_in(-5.0, 5.0)), draw(_in(-5.0, 5.0))]
    else:
        task["name"] = draw(st.sampled_from(list(datasets.DATASETS)))
        task["n_samples"] = draw(st.integers(10, 240))
        task["noise"] = draw(_in(0.0, 1.0))
        task["test_fraction"] = draw(_in(0.0, 0.9))
    raw["task"] = task
    opt_name = draw(st.sampled_from(list(optimizers.OPTIMIZERS)))
    second_order = opt_name in ("newton", "lbfgs")
    widths = st.sampled_from([1, 2, 3] if second_order else [1, 2, 5, 16])
    raw["network"] = draw(st.fixed_dictionaries({}, optional={
        "hidden": st.lists(widths, max_size=2 if second_order else 4),
        "activation": st.sampled_from(nn.ACTIVATIONS), "init": st.sampled_from(nn.INITS),
        "init_std": _in(*config.INIT_STD_RANGE), "batch_norm": st.booleans()}))
    if draw(st.booleans()):
        raw["loss"] = {"name": draw(st.sampled_from(losses.LOSSES))}
    opt = {"name": opt_name}
    for key, default in optimizers.OPTIMIZERS[opt_name].defaults.items():
        if not draw(st.booleans()):
            continue
        lo, hi = config.HYPER_RANGES.get(key, config.DEFAULT_HYPER_RANGE)
        if key == "line_search_fn":
            opt[key] = draw(st.sampled_from(["none", "strong_wolfe"]))
        elif key in config.INTEGER_HYPER:
            opt[key] = draw(st.integers(1, 30))  # the ranges go further; extremes live in test_extremes
        elif isinstance(default, bool):
            opt[key] = draw(st.booleans())
        elif isinstance(default, tuple):
            opt[key] = [draw(_in(lo, hi)) for _ in default]
        else:
            opt[key] = draw(_in(lo, min(hi, 10.0) if key == "lr" else hi))
    raw["optimizer"] = opt
    raw["training"] = draw(st.fixed_dictionaries({}, optional={
        "batch_size": st.one_of(st.just("full"), st.integers(1, 300)),
        **{k: _in(*r) for k, r in config.TRAINING_RANGES.items()}}))
    sched = draw(st.sampled_from(list(config.SCHEDULE_PARAMS)))
    raw["schedule"] = {"name": sched}
    for key in config.SCHEDULE_PARAMS[sched]:
        if draw(st.booleans()):
            lo, hi = config.SCHEDULE_RANGES[key]
            raw["schedule"][key] = draw(st.integers(lo, 10**6) if key in ("step_size", "t_max") else _in(lo, hi))
    if draw(st.booleans()):
        # any text but control characters (line breaks and tabs aside), which configs refuse
        raw["meta"] = {"title": draw(st.text(st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from("\n\t"),
                                             max_size=20))}
    return raw


# ------------------------------------------------------------------------------ junk and mutations
def _deep(depth: int) -> list:
    v: list = []
    for _ in range(depth):
        v = [v]
    return v


JUNK = st.one_of(
    st.integers(-10**30, 10**30), st.sampled_from([10**400, -10**400, 2**63, 2**31]),
    st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0, 5e-324]),
    st.text(max_size=30), st.sampled_from(["", "full", "none", "\u00e9\u6f22\U0001F600", "\ud800", "nan"]),
    st.booleans(), st.none(),
    st.lists(st.integers(-3, 300), max_size=10), st.lists(st.floats(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just(datetime.date(1979, 5, 27)), st.just(datetime.time(7, 32)),
    st.integers(900, 3000).map(_deep),
)


def _paths(obj, prefix=()) -> list[tuple]:
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append(prefix + (k,))
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(obj, list):
        for i in range(len(obj)):
            out.append(prefix + (i,))
    return out


@st.composite
def mutated_raw(draw) -> tuple[dict, tuple | None]:
    """(raw config, path of the mutated value or None: None also when the legal config itself clashes)."""
    raw = draw(legal_raw())
    try:
        config.resolve(copy.deepcopy(raw))
    except ConfigError:
        clean = False  # e.g. bce on a regression set: the mutation is not the (only) mistake
    else:
        clean = True
    raw, path = draw(_mutate(raw))
    return raw, path if clean else None


@st.composite
def _mutate(draw, raw: dict) -> tuple[dict, tuple | None]:
    how = draw(st.sampled_from(["none", "junk", "junk", "junk", "delete", "unknown", "section"]))
    if how == "none":
        return raw, None
    if how == "section":
        key = draw(st.sampled_from(config.TOP_KEYS))
        raw[key] = draw(JUNK)
        return raw, (key,)
    path = draw(st.sampled_from(_paths(raw)))
    parent = raw
    for p in path[:-1]:
        parent = parent[p]
    if how == "junk":
        parent[path[-1]] = draw(JUNK)
    elif how == "delete" and isinstance(parent, dict):
        del parent[path[-1]]
    elif how == "unknown" and isinstance(parent, dict):
        parent[draw(st.sampled_from(["bogus", "lr ", "Name", "\u00e9t\u00e9", "x" * 500]))] = 1
    else:
        return raw, None
    return raw, path


# ------------------------------------------------------------------------------ the properties
def _check_resolved(cfg: dict) -> None:
    event("resolved and trained")
    assert config.resolve(cfg) == cfg, "resolving a resolved config changes nothing"
    assert config.loads(config.dumps(cfg)) == cfg, "a resolved config survives a TOML round trip"
    s = Session(cfg)
    done = s.run(5)
    assert done == s.step == len(s.history) <= 5
    assert done == 5 or s.halted, "a run stops early only on a NaN/inf halt"
    assert s.halted is None or isinstance(s.halted, str)
    assert np.isfinite(s.theta).all(), "the last finite parameters are kept on a halt"
    if s.halted:
        event("halted on NaN/inf")
    if s.kind == "dataset":
        s.evaluate()  # the GUI evaluates after every frame


def _check_error(e: ConfigError, path: tuple | None) -> None:
    event("ConfigError")
    msg = str(e)
    assert msg and "\n" not in msg and len(msg) < 600, msg
    assert "Traceback" not in msg
    if path is not None:  # the message points at the broken part
        words = [str(p) for p in path if isinstance(p, str)]
        assert any(w[:60] in msg for w in words) or "config" in msg, (path, msg)


@budget(N_RAW)
@given(mutated_raw())
def test_resolve_returns_a_runnable_config_or_a_config_error(case):
    raw, path = case
    try:
        cfg = config.resolve(raw)
    except ConfigError as e:
        _check_error(e, path)
        return
    _check_resolved(cfg)


# ------------------------------------------------------------------------------ through TOML text
def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, (int, str)):
        return config._toml_value(v)
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_toml(x)}" for k, x in v.items()) + "}"
    raise ValueError(type(v))


def _key(k: str) -> str:
    return config._toml_value(k)  # a quoted key takes any text


def to_toml(raw: dict) -> str:
    lines = [f"{_key(k)} = {_toml(v)}" for k, v in raw.items() if not isinstance(v, dict)]
    for k, v in raw.items():
        if isinstance(v, dict):
            lines.append(f"[{_key(k)}]")
            lines += [f"{_key(kk)} = {_toml(vv)}" for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


def _has_none_or_surrogate(v) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in v)
    if isinstance(v, dict):
        return any(_has_none_or_surrogate(k) or _has_none_or_surrogate(x) for k, x in v.items())
    if isinstance(v, list):
        return len(v) > 0 and (isinstance(v[0], list) or any(_has_none_or_surrogate(x) for x in v))
    return False


@budget(N_TOML)
@given(mutated_raw())
def test_toml_text_with_nan_inf_dates_and_unicode(case):
    raw, path = case
    if _has_none_or_surrogate(raw):  # TOML has no null and cannot hold a lone surrogate
        return
    _check_text(to_toml(raw))


@budget(N_TEXT)
@given(st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    legal_raw().map(to_toml).flatmap(lambda t: st.integers(0, len(t)).map(lambda i: t[:i])),  # cut short
))
def test_arbitrary_text_is_a_config_or_a_config_error(text):
    _check_text(text)


def _check_text(text: str) -> None:
    """TOML text gives a valid resolved config or a ConfigError with a clear message."""
    try:
        cfg = config.loads(text, source="fuzz.toml")
    except ConfigError as e:
        _check_error(e, None)
        return
    _check_resolved(cfg)


def test_files_that_cannot_be_read(tmp_path):
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00seed = 1")
    (tmp_path / "folder.toml").mkdir()
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 5000 + "]" * 5000)
    for name in ("binary.toml", "folder.toml", "missing.toml", "deep.toml"):
        try:
            config.load(tmp_path / name)
        except ConfigError as e:
            assert name in str(e) and "\n" not in str(e)
        else:
            raise AssertionError(f"{name} loaded")
