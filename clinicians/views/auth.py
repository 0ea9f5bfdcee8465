"""Sign in, sign out and password reset for the clinic's staff (Django's auth views, our
templates). Lockout after repeated failures is django-axes (settings.AXES_*)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from clinicians.forms import SignInForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="clinicians/auth/login.html",
            authentication_form=SignInForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="clinicians:login"), name="logout"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="clinicians/auth/password_reset.html",
            email_template_name="clinicians/auth/password_reset_email.txt",
            subject_template_name="clinicians/auth/password_reset_subject.txt",
            success_url=reverse_lazy("clinicians:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="clinicians/auth/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="clinicians/auth/password_reset_confirm.html",
            success_url=reverse_lazy("clinicians:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="clinicians/auth/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
