from django.urls import path

from . import views

urlpatterns = [
    path("campaigns/", views.CampaignListCreateApiView.as_view(), name="api-campaigns"),
    path("campaigns/audience/", views.AudienceApiView.as_view(), name="api-campaign-audience"),
    path("campaigns/<int:pk>/", views.CampaignDetailApiView.as_view(), name="api-campaign"),
    path("campaigns/<int:pk>/send/", views.CampaignSendApiView.as_view(),
         name="api-campaign-send"),
    path("campaigns/<int:pk>/stats/", views.CampaignStatsApiView.as_view(),
         name="api-campaign-stats"),
]
