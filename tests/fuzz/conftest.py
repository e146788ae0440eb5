"""Hypothesis profiles for the fuzz tests (registered here, used explicitly by each test).

"gradplay-ci" (the default) replays the same examples on every run: `derandomize=True`, no example
database, no deadline (GUI actions and first-call imports vary in time). Each test module builds its
settings with `budget(n)` (the profile named by GRADPLAY_FUZZ_PROFILE, n × GRADPLAY_FUZZ_SCALE
examples) so the whole folder stays well under a minute in CI; for a longer hunt with fresh examples:

    GRADPLAY_FUZZ_PROFILE=gradplay-explore GRADPLAY_FUZZ_SCALE=20 pytest tests/fuzz
"""
from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "gradplay-ci", derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture])
settings.register_profile("gradplay-explore", parent=settings.get_profile("gradplay-ci"), derandomize=False)

