"""The console's URLs, under /console/ (namespace `console`)."""

from django.urls import path

from console.views import heat_map, instances, migration, modeler, process_models, versions

app_name = "console"

urlpatterns = [
    path("", process_models.model_list, name="models"),
    path("models/<str:process_id>/", process_models.model_detail, name="model"),
    path("models/<str:process_id>/v<int:number>/", versions.version_detail, name="version"),
    path(
        "models/<str:process_id>/v<int:number>/files/<int:file_id>/",
        versions.file_download,
        name="version_file",
    ),
    path("models/<str:process_id>/diff/", versions.diff, name="version_diff"),
    path("modeler/", modeler.modeler_new, name="modeler_new"),
    path("modeler/<str:process_id>/v<int:number>/", modeler.modeler, name="modeler"),
    path("modeler/validate/", modeler.modeler_validate, name="modeler_validate"),
    path("modeler/deploy/", modeler.modeler_deploy, name="modeler_deploy"),
    path("modeler/forms/check/", modeler.form_check, name="form_check"),
    path("modeler/forms/preview/", modeler.form_preview, name="form_preview"),
    path("instances/", instances.instance_list, name="instances"),
    path("instances/<int:pk>/", instances.instance_detail, name="instance"),
    path("instances/<int:pk>/retry/", instances.retry, name="instance_retry"),
    path("instances/<int:pk>/suspend/", instances.suspend, name="instance_suspend"),
    path("instances/<int:pk>/resume/", instances.resume, name="instance_resume"),
    path("instances/<int:pk>/terminate/", instances.terminate, name="instance_terminate"),
    path("instances/<int:pk>/tasks/<uuid:task_id>/reassign/", instances.reassign, name="task_reassign"),
    path("incidents/", instances.incident_list, name="incidents"),
    path("models/<str:process_id>/v<int:number>/migrate/", migration.migration, name="migration"),
    path("models/<str:process_id>/v<int:number>/heat-map/", heat_map.heat_map_page, name="heatmap"),
    path(
        "models/<str:process_id>/v<int:number>/heat-map/<str:element_id>/",
        heat_map.heat_map_element,
        name="heatmap_element",
    ),
]
