"""One error shape for the whole API: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    code = getattr(exc, "default_code", "error")
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        message, details = str(data["detail"]), None
        code = getattr(data["detail"], "code", code)
    else:
        message, details = _("Invalid input."), data
    response.data = {"error": {"code": code, "message": message, "details": details}}
    return response
