from django.urls import path

from . import company_views as views

app_name = "manage"

urlpatterns = [
    path("", views.employees, name="employees"),
    path("employees/new/", views.employee_create, name="employee_create"),
    path("employees/<int:pk>/", views.employee_detail, name="employee_detail"),
    path("employees/<int:pk>/edit/", views.employee_edit, name="employee_edit"),
    path("employees/actions/", views.employee_action, name="employee_action"),
    path("employees/import/", views.employee_import, name="employee_import"),
    path(
        "employees/import/confirm/", views.employee_import_confirm, name="employee_import_confirm"
    ),
    path("policies/", views.policies, name="policies"),
    path("log/", views.security_log, name="security_log"),
]
