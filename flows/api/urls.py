from django.urls import path

from . import views

urlpatterns = [
    path("flows/", views.FlowListCreateApiView.as_view(), name="api-flows"),
    path("flows/<int:pk>/switch/", views.FlowSwitchApiView.as_view(), name="api-flow-switch"),
    path("flows/<int:pk>/stats/", views.FlowStatsApiView.as_view(), name="api-flow-stats"),
]
