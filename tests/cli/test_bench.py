"""`gradplay bench --quick --json`: a smoke test of the command (no timing assertions)."""
import json

from gradplay.cli import main


def test_bench_quick_json_has_every_config(capsys):
    assert main(["bench", "--json", "--quick"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in r["configs"]] == ["a", "b", "c", "d"]
    for c in r["configs"]:
        assert c["steps_per_s"] > 0 and c["steps_per_cpu_s"] > 0 and c["numpy_steps_per_s"] > 0
        assert len(c["runs"]) >= 5
        assert c["config"]["optimizer"]["name"] in ("adam", "sgd")
        assert c["engine"] in ("compiled", "scalar", "numpy")
    assert r["configs"][0]["config"]["network"]["hidden"] == [8, 8]
    m = r["memory"]
    assert m["steps"] > 0 and m["rss_mb"] > 0 and m["history_rows"] <= m["history_capacity"]
    assert r["startup"]["import_engine_s"] > 0
    h = r["headless"]
    assert h["config"] == "a" and h["steps"][1] > h["steps"][0] and h["steps_per_s"] > 0
    # each difference against the engine's rate measured just before it (the machine's speed drifts)
    assert len(h["runs"]) == len(h["of_engine_runs"]) == 3 and all(x > 0 for x in h["of_engine_runs"])
    assert h["of_engine"] == sorted(h["of_engine_runs"])[1]


def test_bench_table_names_the_targets(capsys, monkeypatch):
    import gradplay.bench as bench

    monkeypatch.setattr(bench, "MEMORY_STEPS", 20_000)
    monkeypatch.setattr(bench, "HEADLESS_STEPS", (100, 900))
    monkeypatch.setattr(bench, "CASES", tuple(c.__class__(c.key, c.label, c.raw, c.target, 500) for c in bench.CASES))
    assert main(["bench", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "(a) spiral 2-8-8-1 tanh" in out and "≥500,000" in out and "≥4,500" in out and "memory: RSS" in out
    assert "headless run: `gradplay run` of (a)" in out and "target ≥90%" in out
