"""The login page with login_throttle's growing delay in front of the password check."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.utils.translation import ngettext

from . import login_throttle


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs) -> HttpResponse:
        username = request.POST.get("username", "")
        address = request.META.get("REMOTE_ADDR", "")
        wait = login_throttle.seconds_to_wait(username=username, address=address)
        if wait:
            # Unbound: a bound form would check the password while we refuse to.
            form = self.get_form_class()(request, initial={"username": username})
            refused = ngettext(
                "Too many wrong passwords. Try again in %(n)d second.",
                "Too many wrong passwords. Try again in %(n)d seconds.", wait) % {"n": wait}
            return self.render_to_response(
                self.get_context_data(form=form, refused=refused), status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            login_throttle.success_record(username=username, address=address)
        else:
            login_throttle.failure_record(username=username, address=address)
        return response
