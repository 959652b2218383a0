from django.urls import path

from . import views

urlpatterns = [
    path("", views.uploads_view, name="uploads"),
]
