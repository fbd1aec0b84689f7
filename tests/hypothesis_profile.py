"""Hypothesis settings for the whole suite (loaded as a plugin: `-p hypothesis_profile` in
pyproject.toml, so it does not shadow the `conftest` modules the test folders import).

Property tests (Hypothesis) run derandomized by default: `make test` explores the same
examples on every machine, so a red run can be replayed exactly and a green one means the
same on a clean clone as here. To search new examples, set CLEARANCE_HYPOTHESIS=explore
(random seeds; failures are saved in .hypothesis/ and replayed first), for example with
CLEARANCE_PROPERTY_EXAMPLES=500 on tests/test_run_properties.py.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(
    "explore" if os.environ.get("CLEARANCE_HYPOTHESIS") == "explore" else "repeatable"
)
