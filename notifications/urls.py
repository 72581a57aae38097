from django.urls import path

from notifications import stream, views

urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", views.ReadView.as_view(), name="notifications-read"),
    path("notifications/stream/", stream.stream, name="notifications-stream"),
]

# Mounted at the site's root: the page a person opens.
pages = [
    path("notifications/", views.live, name="notifications-live"),
]
