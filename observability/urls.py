from django.urls import path

from observability.scrape import metrics
from observability.views import dashboard

# Mounted at the root: /admin/redis/ (before the admin's own URLs) and /metrics.
urlpatterns = [
    path("admin/redis/", dashboard, name="redis-dashboard"),
    path("metrics", metrics, name="metrics"),
]
