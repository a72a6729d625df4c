"""The work pages' URLs."""

from django.urls import path

from onsite.views import accounts, inbox

urlpatterns = [
    path("", accounts.home, name="home"),
    path("tasks/", inbox.inbox, name="inbox"),
    path("tasks/<uuid:task_id>/claim/", inbox.claim, name="task_claim"),
    path("tasks/<uuid:task_id>/release/", inbox.release, name="task_release"),
    path("tasks/<uuid:task_id>/reassign/", inbox.reassign, name="task_reassign"),
]
