from django.urls import path

from . import views

urlpatterns = [
    path("", views.overview_view, name="overview"),
    path("customers/", views.customers_view, name="customers"),
    path("segments/", views.segments_view, name="segments"),
]
