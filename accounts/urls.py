from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("login/help/", views.login_help, name="login_help"),
    path("profile/", views.profile, name="profile"),
    path("security/", views.security, name="security"),
    path("password/initial/", views.change_initial_password, name="change_initial_password"),
    path("security/confirm/", views.reauthenticate, name="reauthenticate"),
    path("security/password/", views.change_password, name="change_password"),
    path("security/sessions/", views.sessions, name="sessions"),
    path("security/sessions/<int:pk>/end/", views.end_session, name="end_session"),
    path("security/sessions/end-others/", views.end_other_sessions, name="end_other_sessions"),
    path("session/keep-alive/", views.keep_alive, name="keep_alive"),
    path("session/status/", views.session_status, name="session_status"),
    path("email/confirm/<str:token>/", views.confirm_email_change, name="confirm_email_change"),
    path("sign-in/report/<str:token>/", views.report_sign_in, name="report_sign_in"),
]

urlpatterns += [
    path("register/", views.register, name="register"),
    path("register/check-email/", views.verification_sent, name="verification_sent"),
    path("terms/", views.terms, name="terms"),
    path("verify/done/", views.email_verified, name="email_verified"),
    path("verify/required/", views.verify_email_required, name="verify_email_required"),
    path("verify/<uidb64>/<token>/", views.verify_email, name="verify_email"),
    path("unblock/", views.check_account, name="check_account"),
    path("unblock/sent/", views.check_account_sent, name="check_account_sent"),
    path("unblock/<uidb64>/<token>/", views.unblock_account, name="unblock_account"),
    path("password/forgot/", views.password_reset, name="password_reset"),
    path("password/forgot/sent/", views.password_reset_sent, name="password_reset_sent"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password/changed/", views.password_changed, name="password_changed"),
    path("username/forgot/", views.username_reminder, name="username_reminder"),
    path("username/forgot/sent/", views.username_reminder_sent, name="username_reminder_sent"),
]
