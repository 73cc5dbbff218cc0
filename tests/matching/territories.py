"""Moved to tests/worlds.py (shared with the orientation tests); kept importable."""

from tests.worlds import NOW, World, gp_at, two_cpts, waiting_request

__all__ = ["NOW", "World", "gp_at", "two_cpts", "waiting_request"]
