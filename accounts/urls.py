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
]
