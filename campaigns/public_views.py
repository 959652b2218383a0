"""The public, signed endpoints reached from emails: no login, nothing from the request trusted.

Invalid tokens, and any other address under /t/ or /u/ (a link cut short by a
mail client), get the shop's own "link not valid" page with status 404, in every
settings module: a customer never sees Django's debug page. The click endpoint
only ever redirects to a URL stored in a Link row of the recipient's own campaign.
"""

from __future__ import annotations

import base64

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from campaigns import conf
from campaigns.services.tracking import (
    tracking_click_target,
    tracking_open_record,
    unsubscribe_recipient,
    unsubscribe_record,
)
from profiler_site.core.rate_limit import tracking_rate_limited


def _public_page(request: HttpRequest, template: str, context: dict, *, status: int = 200,
                 campaign=None) -> HttpResponse:
    # The shop's name heads every public page; without SHOP_NAME, the sender name
    # of the email the customer came from is the shop as they know it.
    shop = conf.shop_name() or (campaign.from_name if campaign is not None else "")
    return render(request, template, {**context, "shop_name": shop}, status=status)


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return _public_page(request, "campaigns/public/invalid_link.html", {}, status=404)


@login_not_required
@never_cache
def invalid_link_view(request: HttpRequest, rest: str = "") -> HttpResponse:
    return _invalid_link(request)


PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@login_not_required
@never_cache
@tracking_rate_limited
@require_GET
def track_open_view(request: HttpRequest, token: str) -> HttpResponse:
    # Always the pixel: an image that fails to load looks broken in the email.
    tracking_open_record(token=token)
    response = HttpResponse(PIXEL_GIF, content_type="image/gif")
    response["Content-Length"] = str(len(PIXEL_GIF))
    return response


@login_not_required
@never_cache
@tracking_rate_limited
@require_GET
def track_click_view(request: HttpRequest, token: str) -> HttpResponse:
    url = tracking_click_target(token=token)
    if url is None:
        return _invalid_link(request)
    # HttpResponseRedirect refuses schemes other than http/https/ftp; stored URLs
    # were checked to be absolute http(s) when the email was built.
    response = HttpResponseRedirect(url)
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@never_cache
@tracking_rate_limited
@require_GET
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """A confirmation page: a GET (link scanners, prefetchers) never unsubscribes."""
    return _unsubscribe_page(request, token)


def _unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    recipient = unsubscribe_recipient(token=token)
    if recipient is None:
        return _invalid_link(request)
    return _public_page(
        request, "campaigns/public/unsubscribe.html",
        {"recipient": recipient, "token": token, "done": recipient.unsubscribed_at is not None},
        campaign=recipient.campaign,
    )


@login_not_required
@never_cache
@csrf_exempt  # RFC 8058: mail providers POST without cookies or a CSRF token
@tracking_rate_limited
@require_http_methods(["GET", "POST"])
def unsubscribe_one_click_view(request: HttpRequest, token: str) -> HttpResponse:
    recipient = unsubscribe_recipient(token=token)
    if recipient is None:
        return _invalid_link(request)
    if request.method == "GET":
        return _unsubscribe_page(request, token)
    unsubscribe_record(recipient=recipient)
    return _public_page(request, "campaigns/public/unsubscribe.html",
                        {"recipient": recipient, "token": token, "done": True},
                        campaign=recipient.campaign)
