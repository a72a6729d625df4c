"""The console's URLs, under /console/ (namespace `console`)."""

from django.urls import path

from console.views import heat_map, process_models

app_name = "console"

urlpatterns = [
    path("", process_models.model_list, name="models"),
    path("models/<str:process_id>/v<int:number>/heat-map/", heat_map.heat_map_page, name="heatmap"),
    path(
        "models/<str:process_id>/v<int:number>/heat-map/<str:element_id>/",
        heat_map.heat_map_element,
        name="heatmap_element",
    ),
]
