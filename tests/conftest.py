"""Test configuration: Hypothesis profiles.

``CSDOMAIN_LONG=1`` selects the ``long`` profile (many more examples), for
soak runs outside CI; the default keeps the suite within a few minutes on two
cores. No deadline: CI machines are shared and timing is not what we test.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

# The storage contract's assertions show their values when they fail.
pytest.register_assert_rewrite("csdomain.testing.storage")

settings.register_profile("default", deadline=None, max_examples=60)
settings.register_profile(
    "long",
    deadline=None,
    max_examples=2_000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("long" if os.environ.get("CSDOMAIN_LONG") else "default")
