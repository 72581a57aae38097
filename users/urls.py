from django.urls import path
from rest_framework.routers import SimpleRouter

from users import views

router = SimpleRouter()
router.register("users", views.UserViewSet, basename="user")

urlpatterns = [
    *router.urls,
    path("auth/csrf/", views.CsrfView.as_view(), name="auth-csrf"),
    path("auth/login/", views.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/me/", views.MeView.as_view(), name="auth-me"),
    path("auth/password/", views.PasswordChangeView.as_view(), name="auth-password"),
    path("me/searches/", views.SearchesView.as_view(), name="me-searches"),
    path("tags/common/", views.CommonTagsView.as_view(), name="tags-common"),
    path("tags/<str:tag>/users/", views.TagUsersView.as_view(), name="tag-users"),
    path("leaderboard/", views.LeaderboardView.as_view(), name="leaderboard"),
]
