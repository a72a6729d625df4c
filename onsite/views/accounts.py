"""Signing in and out, the password, and the home page each role lands on."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from onsite.access import role_names
from onsite.roles import TEAM_LEADER


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """A team leader lands in the review queue, everyone else in their task inbox."""
    return redirect("review_queue" if TEAM_LEADER in role_names(request.user) else "inbox")
