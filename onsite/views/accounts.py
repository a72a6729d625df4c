"""Signing in and out, the password, and the home page each role lands on."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.i18n import set_language

from onsite.access import role_names
from onsite.roles import LEADERSHIP, TEAM_LEADER
from onsite.services.notifications import remember_language


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """A team leader lands in the review queue, leadership on the dashboard, everyone else in their
    task inbox."""
    roles = role_names(request.user)
    if TEAM_LEADER in roles:
        return redirect("review_queue")
    return redirect("dashboard" if LEADERSHIP in roles else "inbox")


def switch_language(request: HttpRequest) -> HttpResponse:
    """The header's 中文/English switch (Django's `set_language`), remembered for a signed-in
    person so the e-mails they are sent are written in the language they chose."""
    response = set_language(request)
    if request.method == "POST":
        remember_language(user=request.user, language=request.POST.get("language", ""))
    return response
