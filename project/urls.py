"""The root URLconf: the only module of ``project`` that imports the apps (their URLs)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from notifications.urls import pages as notifications_pages
from project.web.views import ApiRootView, HealthView
from users.auth_urls import sign_in_pages

urlpatterns = [
    path("", include("observability.urls")),  # /admin/redis/ (before the admin's), /metrics
    path("admin/", admin.site.urls),
    path("api/", ApiRootView.as_view(), name="api-root"),
    path("api/", include("users.urls")),
    path("api/", include("caching.urls")),
    path("api/auth/", include("users.auth_urls")),
    path("api-auth/", include(sign_in_pages)),  # the browsable API's sign-in pages
    path("api/", include("notifications.urls")),
    path("", include(notifications_pages)),
    path("api/health/", HealthView.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

handler400 = "project.web.errors.bad_request"
handler404 = "project.web.errors.not_found"
handler500 = "project.web.errors.server_error"
