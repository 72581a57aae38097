from __future__ import annotations

import pytest
from django.db import IntegrityError

from users.models import User

pytestmark = pytest.mark.django_db


def test_email_is_unique_regardless_of_case() -> None:
    User.objects.create_user(username="a", email="same@example.com")
    with pytest.raises(IntegrityError):
        User.objects.create_user(username="b", email="SAME@example.com")


def test_user_is_the_auth_user_model() -> None:
    from django.contrib.auth import get_user_model

    assert get_user_model() is User
