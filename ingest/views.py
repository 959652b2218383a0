from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def uploads_view(request: HttpRequest) -> HttpResponse:
    return render(request, "ingest/uploads.html", {})
