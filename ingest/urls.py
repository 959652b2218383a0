from django.urls import path

from . import views

urlpatterns = [
    path("", views.uploads_view, name="uploads"),
    path("<int:pk>/", views.import_detail_view, name="import-detail"),
    path("<int:pk>/map/", views.import_map_view, name="import-map"),
    path("<int:pk>/rejected.csv", views.import_rejects_view, name="import-rejects"),
    path("<int:pk>/discard/", views.import_discard_view, name="import-discard"),
    path("<int:pk>/undo/", views.import_undo_view, name="import-undo"),
    path("demo/remove/", views.demo_remove_view, name="demo-remove"),
]
