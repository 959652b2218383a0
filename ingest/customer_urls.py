"""A customer's data on request (mounted under /customers/ beside the profile page)."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:pk>/data.zip", views.customer_archive_view, name="customer-archive"),
    path("<int:pk>/erase/", views.customer_erase_view, name="customer-erase"),
]
