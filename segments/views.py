from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def overview_view(request: HttpRequest) -> HttpResponse:
    return render(request, "segments/overview.html", {})


def customers_view(request: HttpRequest) -> HttpResponse:
    return render(request, "segments/customers.html", {})


def segments_view(request: HttpRequest) -> HttpResponse:
    return render(request, "segments/segments.html", {})
