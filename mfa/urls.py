from django.urls import path

from . import views

app_name = "mfa"

urlpatterns = [
    path("account/security/two-factor/", views.index, name="index"),
    # Every enrollment page shares the name "setup": a user who must enrol may reach only it.
    path("account/security/two-factor/setup/", views.setup, name="setup"),
    path("account/security/two-factor/setup/<slug:kind>/", views.setup, name="setup"),
    path(
        "account/security/two-factor/strong-factor-required/",
        views.strong_factor_required,
        name="strong_factor_required",
    ),
    path("account/security/two-factor/backup-codes/", views.backup_codes, name="backup_codes"),
    path(
        "account/security/two-factor/trusted-browsers/forget/",
        views.forget_trusted_browsers,
        name="forget_trusted_browsers",
    ),
    path("account/security/two-factor/<slug:ref>/rename/", views.rename, name="rename"),
    path("account/security/two-factor/<slug:ref>/remove/", views.remove, name="remove"),
    path("account/security/two-factor/<slug:ref>/default/", views.make_default, name="default"),
    path("mfa/push/sign-in-status/", views.sign_in_push_status, name="sign_in_push_status"),
    path("mfa/api/push/enrol", views.api_enrol, name="api_enrol"),
    path("mfa/api/push/challenges", views.api_challenges, name="api_challenges"),
    path("mfa/api/push/challenges/<str:public_id>/answer", views.api_answer, name="api_answer"),
]
