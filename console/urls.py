"""The console's URLs, under /console/ (namespace `console`)."""

from django.urls import path

from console.views import migration, process_models

app_name = "console"

urlpatterns = [
    path("", process_models.model_list, name="models"),
    path("models/<str:process_id>/v<int:number>/migrate/", migration.migration, name="migration"),
]
