"""`gradplay bench --gui --quick --json` in a subprocess: a smoke test (no timing assertions)."""
import json
import os
import subprocess
import sys


def test_bench_gui_quick_json_has_every_figure(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path),
               XDG_DATA_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "gradplay.cli", "bench", "--gui", "--quick", "--json"],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout)
    assert r["window_size"] == [1600, 1000]
    assert set(r["runs"]) == {"default/numpy", "default/fast", "default/maps", "all/numpy", "all/fast", "all/maps"}
    for key in ("default/maps", "all/maps"):  # the 2-8-8-8-1 net with the Weights diagram's neuron maps
        maps = r["runs"][key]
        assert maps["weights_on_screen"] and maps["maps_on"] and maps["map_redraws_per_s"] > 0, key
    for m in r["runs"].values():
        assert m["fps"] > 0 and m["steps_per_s"] > 0 and m["repaints_per_s"] > 0
        assert m["p50_ms"] > 0 and m["p99_ms"] >= m["p50_ms"]
        assert m["engine"] in ("numpy", "compiled")
    assert r["runs"]["default/numpy"]["engine"] == "numpy"
    assert r["first_frame"]["first_frame_s"] > 0
    assert r["memory"]["steps"] > 0 and r["memory"]["rss_mb"] > 0
    assert r["profile"]["panel_refresh_ms_per_tick"] and r["paint_ms"]["default"]
    assert not list(tmp_path.glob("**/*.ini"))  # the user's settings were not touched
