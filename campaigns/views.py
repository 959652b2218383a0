from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def campaigns_view(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/campaigns.html", {})
