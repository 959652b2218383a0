from profiler_site import __version__
from profiler_site.core.shop import shop_profile


def site(request):
    return {"PROFILER_VERSION": __version__, "SHOP_CURRENCY": shop_profile().currency}
