"""The console's URLs, under /console/ (namespace `console`)."""

from django.urls import path

from console.views import instances, process_models

app_name = "console"

urlpatterns = [
    path("", process_models.model_list, name="models"),
    path("instances/", instances.instance_list, name="instances"),
    path("instances/<int:pk>/", instances.instance_detail, name="instance"),
    path("instances/<int:pk>/retry/", instances.retry, name="instance_retry"),
    path("instances/<int:pk>/suspend/", instances.suspend, name="instance_suspend"),
    path("instances/<int:pk>/resume/", instances.resume, name="instance_resume"),
    path("instances/<int:pk>/terminate/", instances.terminate, name="instance_terminate"),
    path("instances/<int:pk>/tasks/<uuid:task_id>/reassign/", instances.reassign, name="task_reassign"),
    path("incidents/", instances.incident_list, name="incidents"),
]
