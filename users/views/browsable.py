"""``/api-auth/``: the browsable API's sign-in and sign-out pages, for people in a browser
(API clients sign in with ``POST /api/auth/login/``). Mounted in DRF's ``rest_framework``
namespace, so DRF's own login template and links find them."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from redis import RedisError

from ratelimit import signin
from users import counters

logger = logging.getLogger(__name__)


@method_decorator(signin.protect, name="dispatch")  # the throttles of POST /api/auth/login/
class SignInView(auth_views.LoginView):
    """The sign-in form (``?next=`` where to land, the API root by default). A sign-in
    is Django's ``login()``: the session is cycled and indexed, counted like the API's."""

    template_name = "rest_framework/login.html"
    next_page = "api-root"

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user_id = form.get_user().pk
        try:
            counters.count_login(user_id)
        except RedisError as exc:
            logger.warning("login of %d not counted, Redis unavailable: %s", user_id, exc)
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "name": "Sign in"}


class SignOutView(auth_views.LogoutView):
    """Sign out (POST, from the navbar's button), back to ``?next=`` or the API root."""

    next_page = "api-root"
