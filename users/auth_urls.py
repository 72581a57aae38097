"""``/api/auth/``, mounted once: sign-in and the account here, the sessions of the signed-in
user from the ``sessions`` app. ``sign_in_pages``: the browsable API's sign-in and sign-out
pages, mounted at ``/api-auth/`` in DRF's ``rest_framework`` namespace (its templates name
``rest_framework:login`` and ``rest_framework:logout``)."""

from django.urls import include, path

from users.views import auth, browsable

urlpatterns = [
    path("csrf/", auth.CsrfView.as_view(), name="auth-csrf"),
    path("login/", auth.LoginView.as_view(), name="auth-login"),
    path("logout/", auth.LogoutView.as_view(), name="auth-logout"),
    path("me/", auth.MeView.as_view(), name="auth-me"),
    path("password/", auth.PasswordChangeView.as_view(), name="auth-password"),
    path("", include("sessions.urls")),
]

sign_in_pages = (
    [
        path("login/", browsable.SignInView.as_view(), name="login"),
        path("logout/", browsable.SignOutView.as_view(), name="logout"),
    ],
    "rest_framework",
)
