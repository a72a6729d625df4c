from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from onsite.views import accounts

urlpatterns = [
    path("accounts/login/", accounts.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_change_done.html"),
        name="password_change_done",
    ),
    path("i18n/setlang/", accounts.switch_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("console/", include("console.urls")),
    path("", include("onsite.urls")),
]
