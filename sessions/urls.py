from django.urls import path

from sessions import views

urlpatterns = [
    path("sessions/", views.SessionListView.as_view(), name="auth-sessions"),
    path("sessions/revoke-all/", views.RevokeAllView.as_view(), name="auth-sessions-revoke-all"),
    path("sessions/<str:session_id>/", views.SessionDetailView.as_view(), name="auth-session"),
]
