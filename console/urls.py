"""The console's URLs, under /console/ (namespace `console`)."""

from django.urls import path

from console.views import modeler, process_models, versions

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
]
