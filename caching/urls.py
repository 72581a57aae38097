from django.urls import path

from caching.views import CacheStatsView

urlpatterns = [
    path("cache/stats/", CacheStatsView.as_view(), name="cache-stats"),
]
