from django.conf import settings

from profiler_site import __version__


def site(request):
    return {"PROFILER_VERSION": __version__, "SHOP_CURRENCY": settings.SHOP_CURRENCY}
