"""The work pages' URLs."""

from django.urls import path

from onsite.views import (
    accounts,
    customers,
    desk,
    inbox,
    leads,
    my_work,
    notifications,
    operations,
    tasks,
    visits,
)

urlpatterns = [
    path("", accounts.home, name="home"),
    path("tasks/", inbox.inbox, name="inbox"),
    path("tasks/<uuid:task_id>/", tasks.task, name="task"),
    path("tasks/<uuid:task_id>/draft/", tasks.autosave, name="task_draft"),
    path("tasks/<uuid:task_id>/claim/", inbox.claim, name="task_claim"),
    path("tasks/<uuid:task_id>/release/", inbox.release, name="task_release"),
    path("tasks/<uuid:task_id>/reassign/", inbox.reassign, name="task_reassign"),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/<int:pk>/", customers.customer_page, name="customer"),
    path("visits/", visits.visits, name="visits"),
    path("visits/week/", visits.week, name="visit_week"),
    path("leads/", leads.board, name="leads"),
    path("leads/<int:pk>/move/", leads.move, name="lead_move"),
    path("leads/<int:pk>/win/", leads.win, name="lead_win"),
    path("leads/<int:pk>/lose/", leads.lose, name="lead_lose"),
    path("support/", my_work.support_requests, name="support_requests"),
    path("teams/", my_work.project_teams, name="project_teams"),
    path("appraisal/", my_work.my_appraisals, name="my_appraisal"),
    path("incentives/", my_work.my_incentives, name="my_incentives"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/bell/", notifications.bell, name="notification_bell"),
    path("notifications/read/", notifications.notifications_read, name="notifications_read"),
    path("notifications/settings/", notifications.notification_settings, name="notification_settings"),
    path(
        "notifications/settings/save/",
        notifications.save_notification_settings,
        name="notification_settings_save",
    ),
    path("notifications/<int:pk>/", notifications.notification_open, name="notification_open"),
    path("desk/", desk.review_queue, name="review_queue"),
    path("desk/team/", desk.team_page, name="team_page"),
    path("desk/warnings/", desk.warnings, name="warnings"),
    path("operations/", operations.operations_page, name="operations"),
    path("operations/jobs/<str:task_id>/retry/", operations.retry, name="job_retry"),
]
