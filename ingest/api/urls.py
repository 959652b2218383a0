from django.urls import path

from . import views

urlpatterns = [
    path("imports/", views.ImportListCreateApi.as_view(), name="api-imports"),
    path("imports/<int:pk>/", views.ImportDetailApi.as_view(), name="api-import-detail"),
    path("events/", views.EventsApi.as_view(), name="api-events"),
    path("customers/<int:pk>/export/", views.CustomerArchiveApi.as_view(),
         name="api-customer-archive"),
    path("customers/<int:pk>/erase/", views.CustomerEraseApi.as_view(), name="api-customer-erase"),
]
