"""The site's URLs with placeholders for the console pages a version's page links to, which are
built elsewhere: the links appear once the pages exist."""

from django.http import HttpResponse
from django.urls import include, path

from config.urls import urlpatterns as site
from console.urls import urlpatterns as console


def placeholder(request, **kwargs):
    return HttpResponse()


urlpatterns = [
    path(
        "console/",
        include(
            (
                [
                    *console,
                    path("models/<str:process_id>/v<int:number>/modeler/", placeholder, name="modeler"),
                    path("models/<str:process_id>/v<int:number>/migration/", placeholder, name="migration"),
                    path("models/<str:process_id>/v<int:number>/heatmap/", placeholder, name="heatmap"),
                    path("instances/", placeholder, name="instances"),
                ],
                "console",
            )
        ),
    ),
    *(p for p in site if str(p.pattern) != "console/"),
]
