from django.urls import path

from . import views

urlpatterns = [
    path("", views.campaigns_view, name="campaigns"),
]
