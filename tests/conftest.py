"""Shared fixtures: where ../shared lives, and a scratch output folder."""
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("PPCRNN_SHARED", os.path.join(os.path.dirname(REPO), "shared"))


@pytest.fixture(scope="session")
def shared_dir():
    if not os.path.isdir(SHARED):
        pytest.fail(f"../shared not found at {SHARED} (set PPCRNN_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def benchmarks_dir(shared_dir):
    return os.path.join(shared_dir, "data", "benchmarks")
