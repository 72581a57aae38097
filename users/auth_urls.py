"""``/api/auth/``, mounted once: sign-in and the account here, the sessions of the signed-in
user from the ``sessions`` app."""

from django.urls import include, path

from users.views import auth

urlpatterns = [
    path("csrf/", auth.CsrfView.as_view(), name="auth-csrf"),
    path("login/", auth.LoginView.as_view(), name="auth-login"),
    path("logout/", auth.LogoutView.as_view(), name="auth-logout"),
    path("me/", auth.MeView.as_view(), name="auth-me"),
    path("password/", auth.PasswordChangeView.as_view(), name="auth-password"),
    path("", include("sessions.urls")),
]
