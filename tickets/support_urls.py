from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    path("", views.queue, name="queue"),
    # Remove with the release after next: see views.queue_bulk_moved.
    path("bulk/", views.queue_bulk_moved),
    path("tickets/<int:pk>/triage/", views.ticket_triage, name="triage"),
    path("tickets/<int:pk>/assign-to-me/", views.ticket_assign_to_me, name="assign_to_me"),
]
