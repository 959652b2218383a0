from django.urls import path

from . import views

urlpatterns = [
    path("", views.flows_view, name="flows"),
    path("new/", views.flow_new_view, name="flow-new"),
    path("starters/<slug:key>/", views.starter_view, name="flow-starter"),
    path("<int:pk>/", views.flow_detail_view, name="flow-detail"),
    path("<int:pk>/edit/", views.flow_edit_view, name="flow-edit"),
    path("<int:pk>/switch/", views.flow_switch_view, name="flow-switch"),
]
