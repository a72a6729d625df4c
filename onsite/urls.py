"""The work pages' URLs."""

from django.urls import path

from onsite.views import accounts, tasks

urlpatterns = [
    path("", accounts.home, name="home"),
    path("tasks/<uuid:task_id>/", tasks.task, name="task"),
    path("tasks/<uuid:task_id>/draft/", tasks.autosave, name="task_draft"),
]
