"""Public, signed endpoints reached from emails (no login): tracking and unsubscribe."""

urlpatterns: list = []
