from django.urls import path

from . import views

app_name = "tickets"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("new/", views.ticket_create, name="create"),
    path("<int:pk>/", views.ticket_detail, name="detail"),
    path("<int:pk>/reply/", views.ticket_reply, name="reply"),
    path("<int:pk>/resolve/", views.ticket_resolve, name="resolve"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("cannot-sign-in/", views.cannot_sign_in, name="cannot_sign_in"),
    path("cannot-sign-in/sent/", views.cannot_sign_in_sent, name="cannot_sign_in_sent"),
]
