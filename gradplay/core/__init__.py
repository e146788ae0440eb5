"""The engine: pure numpy, no Qt (so it runs and tests without a display)."""
