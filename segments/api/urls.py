from rest_framework.routers import SimpleRouter

from . import views

# Path converters rather than regexes: plain routes, and the login-walk test can fill them in.
router = SimpleRouter(use_regex_path=False)
router.register("segments", views.SegmentViewSet, basename="api-segment")
router.register("segment-customers", views.CustomerScoreViewSet, basename="api-segment-customer")
router.register("runs", views.RunViewSet, basename="api-run")
router.register("rules", views.BasketRuleViewSet, basename="api-rule")
router.register("recommendations", views.RecommendationViewSet, basename="api-recommendation")

urlpatterns = router.urls
