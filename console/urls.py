"""The console's URLs, under /console/ (namespace `console`)."""

from django.urls import path

from console.views import modeler, process_models

app_name = "console"

urlpatterns = [
    path("", process_models.model_list, name="models"),
    path("modeler/", modeler.modeler_new, name="modeler_new"),
    path("modeler/<str:process_id>/v<int:number>/", modeler.modeler, name="modeler"),
    path("modeler/validate/", modeler.modeler_validate, name="modeler_validate"),
    path("modeler/deploy/", modeler.modeler_deploy, name="modeler_deploy"),
    path("modeler/forms/check/", modeler.form_check, name="form_check"),
    path("modeler/forms/preview/", modeler.form_preview, name="form_preview"),
]
