"""How much the generated tests try: less in a developer's run, all of it in CI.

CI (``CI=true``, as ``.ci/run`` sets it) runs every property and fuzz test with the
example counts it was written for; the README's test command, run by a developer,
tries a smaller share of them, so the whole suite stays within minutes. The tests,
their strategies and their assertions are the same in both.
"""

from __future__ import annotations

import os

IN_CI = os.environ.get("CI") == "true"


def examples(ci: int, locally: int) -> int:
    """How many examples a hypothesis test tries: ``ci`` in CI, ``locally`` otherwise."""
    return ci if IN_CI else locally
