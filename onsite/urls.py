"""The work pages' URLs."""

from django.urls import path

from onsite.views import accounts, desk

urlpatterns = [
    path("", accounts.home, name="home"),
    path("desk/", desk.review_queue, name="review_queue"),
    path("desk/team/", desk.team_page, name="team_page"),
    path("desk/warnings/", desk.warnings, name="warnings"),
]
