from django.urls import path

from . import access_views as views

app_name = "access"

urlpatterns = [
    path("", views.need_access, name="need_access"),
    path("security-manager/", views.request_manager, name="request_manager"),
    path("security-manager/sent/", views.request_sent, name="request_sent"),
    path("security-manager/status/<str:token>/", views.request_status, name="request_status"),
    path("activate/<str:token>/", views.activate, name="activate"),
]
