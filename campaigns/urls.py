from django.urls import path

from . import views

urlpatterns = [
    path("", views.campaigns_view, name="campaigns"),
    path("new/", views.campaign_new_view, name="campaign-new"),
    path("preview/", views.campaign_preview_view, name="campaign-preview"),
    path("audience/", views.campaign_audience_view, name="campaign-audience"),
    path("outbox/", views.outbox_view, name="campaign-outbox"),
    path("outbox/<str:key>/", views.outbox_message_view, name="campaign-outbox-message"),
    path("<int:pk>/", views.campaign_detail_view, name="campaign-detail"),
    path("<int:pk>/edit/", views.campaign_edit_view, name="campaign-edit"),
    path("<int:pk>/report/", views.campaign_report_view, name="campaign-report"),
    path("<int:pk>/send/", views.campaign_send_view, name="campaign-send"),
    path("<int:pk>/send-test/", views.campaign_send_test_view, name="campaign-send-test"),
    path("<int:pk>/pause/", views.campaign_pause_view, name="campaign-pause"),
    path("<int:pk>/resume/", views.campaign_resume_view, name="campaign-resume"),
    path("<int:pk>/cancel/", views.campaign_cancel_view, name="campaign-cancel"),
    path("<int:pk>/schedule/", views.campaign_schedule_view, name="campaign-schedule"),
    path("<int:pk>/unschedule/", views.campaign_unschedule_view, name="campaign-unschedule"),
]
