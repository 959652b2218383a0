from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .auth_views import ThrottledLoginView

urlpatterns = [
    path("setup/", views.setup_view, name="setup"),
    path("settings/", views.settings_view, name="settings"),
    path("settings/shop/", views.shop_settings_view, name="shop-settings"),
    path("settings/api-keys/", views.api_key_create_view, name="api-key-create"),
    path("settings/api-keys/<int:pk>/revoke/", views.api_key_revoke_view, name="api-key-revoke"),
    path("settings/worker-check/", views.worker_check_start_view, name="worker-check"),
    path("jobs/<str:label>/<int:pk>/", views.job_progress_view, name="job-progress"),
    path("jobs/<str:label>/<int:pk>/cancel/", views.job_cancel_view, name="job-cancel"),
    path("health/", views.health_view, name="health"),
    path("api/me/", views.MeApiView.as_view(), name="api-me"),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(success_url="/accounts/password/done/"),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
