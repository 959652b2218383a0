from django.urls import path

from . import views

urlpatterns = [
    path("", views.overview_view, name="overview"),
    path("customers/", views.customers_view, name="customers"),
    path("customers/<int:pk>/", views.customer_detail_view, name="customer-detail"),
    path("segments/", views.segments_view, name="segments"),
    path("segments/refresh/", views.refresh_view, name="segments-refresh"),
    path("segments/rfm/", views.rfm_view, name="segments-rfm"),
    path("segments/models/", views.models_view, name="segments-models"),
    path("segments/rules/", views.rules_view, name="segments-rules"),
    path("segments/rules/settings/", views.rule_settings_view, name="segments-rule-settings"),
    path("segments/<str:kind>/<str:key>/", views.segment_detail_view, name="segment-detail"),
    path("segments/<str:kind>/<str:key>/export.csv", views.segment_export_view,
         name="segment-export"),
    path("segments/<str:kind>/<str:key>/rename/", views.segment_rename_view,
         name="segment-rename"),
    path("products/<int:pk>/", views.product_detail_view, name="product-detail"),
]
