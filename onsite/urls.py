"""The work pages' URLs."""

from django.urls import path

from onsite.views import accounts

urlpatterns = [
    path("", accounts.home, name="home"),
]
