"""``/api/``: users and the data structures behind them."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from users.views import structures
from users.views.users import UserViewSet

router = SimpleRouter()
router.register("users", UserViewSet, basename="user")

urlpatterns = [
    *router.urls,
    path("me/searches/", structures.SearchesView.as_view(), name="me-searches"),
    path("tags/common/", structures.CommonTagsView.as_view(), name="tags-common"),
    path("tags/<str:tag>/users/", structures.TagUsersView.as_view(), name="tag-users"),
    path("leaderboard/", structures.LeaderboardView.as_view(), name="leaderboard"),
]
