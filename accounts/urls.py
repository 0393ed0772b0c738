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
    path("email/confirm/<str:token>/", views.confirm_email_change, name="confirm_email_change"),
    path("sign-in/report/<str:token>/", views.report_sign_in, name="report_sign_in"),
]
