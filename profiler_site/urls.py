"""Root URLs: the only place that imports the apps (their urls)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", include("profiler_site.core.urls")),
    path("", include("segments.urls")),
    path("uploads/", include("ingest.urls")),
    path("customers/", include("ingest.customer_urls")),
    path("campaigns/", include("campaigns.urls")),
    path("flows/", include("flows.urls")),
    path("", include("campaigns.public_urls")),
    path("api/", include("ingest.api.urls")),
    path("api/", include("segments.api.urls")),
    path("api/", include("campaigns.api.urls")),
    path("api/", include("flows.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
