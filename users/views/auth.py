"""``/api/auth/``: CSRF token, sign-in and sign-out, the signed-in user, password change.
(The session list lives in the ``sessions`` app, mounted under the same prefix.)"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.http import HttpResponseBase
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ratelimit import signin
from sessions.services import revoke_all
from users import selectors
from users.models import User
from users.permissions import signed_in
from users.serializers import (
    CsrfSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    UserSerializer,
)


class CsrfView(APIView):
    """Set the ``csrftoken`` cookie and return the token for the ``X-CSRFToken`` header."""

    permission_classes = [AllowAny]

    @extend_schema(responses=CsrfSerializer)
    @method_decorator(ensure_csrf_cookie)
    def get(self, request: Request) -> Response:
        return Response({"csrfToken": get_token(request)})


class LoginView(APIView):
    """Sign in with a username and password; the session cookie comes back."""

    permission_classes = [AllowAny]
    # Scopes "login" (per client address) and "login_account" (failures per account from
    # clients new to it): ratelimit/signin.py.
    throttle_classes = list(signin.THROTTLES)

    def http_method_not_allowed(  # type: ignore[override]
        self, request: Request, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        """A person who opens this in the browsable API (the API root's ``login`` link)
        lands on the sign-in form; API clients get the 405."""
        if request.method == "GET" and isinstance(request.accepted_renderer, BrowsableAPIRenderer):
            query = urlencode({"next": reverse("api-root")})
            return redirect(f"{reverse('rest_framework:login')}?{query}")
        return super().http_method_not_allowed(request, *args, **kwargs)

    # DRF checks CSRF only for authenticated sessions; a login form needs it too (login CSRF).
    @extend_schema(request=LoginSerializer, responses=UserSerializer)
    @method_decorator(csrf_protect)
    def post(self, request: Request) -> Response:
        credentials = LoginSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        user = authenticate(request, **credentials.validated_data)
        if user is None:
            return Response(
                {"detail": "Invalid username or password."}, status=status.HTTP_400_BAD_REQUEST
            )
        login(request, user)  # cycles the session key: no fixation
        signin.forgive(request)
        response = Response(selectors.after_sign_in(user, viewer=request))
        signin.remember(request, response, credentials.validated_data["username"])
        return response


class LogoutView(APIView):
    """End the current session."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    """Change my password: this session stays signed in, every other one is logged out."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        # request.user may be the cache's read-only snapshot: change the row itself.
        user = User.objects.get(pk=signed_in(request).pk)
        request.user = user
        change = PasswordChangeSerializer(data=request.data, context={"request": request})
        change.is_valid(raise_exception=True)
        user.set_password(change.validated_data["new_password"])
        user.save()
        update_session_auth_hash(request, user)  # cycles this session's key, keeps it
        revoke_all(user_id=str(user.pk), except_key=request.session.session_key)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The signed-in user, email included, with the live counts."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            200: UserSerializer,
            404: OpenApiResponse(description="The user was deleted since this request signed in"),
        }
    )
    def get(self, request: Request) -> Response:
        shown = selectors.cached_account(signed_in(request).pk, viewer=request)
        if shown is None:  # deleted since this request signed in
            raise NotFound("No user with this id.")
        return Response(shown)
