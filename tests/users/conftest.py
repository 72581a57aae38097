from __future__ import annotations

import pytest


@pytest.fixture
def no_inline_tags() -> dict[str, str]:
    """The management form of the user admin's (empty) tags inline, for form posts."""
    return {"tags-TOTAL_FORMS": "0", "tags-INITIAL_FORMS": "0"}
