from __future__ import annotations

from django.contrib import admin

from .models import Attachment, Category, Message, Ticket, TicketEvent


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_active", "position"]
    list_editable = ["is_active", "position"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["created_at", "author", "is_internal", "is_description", "body"]
    readonly_fields = ["created_at", "author"]
    raw_id_fields = ["author"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "subject",
        "status",
        "priority",
        "category",
        "company",
        "assignee",
        "created_at",
    ]
    list_filter = ["status", "priority", "category", "company"]
    search_fields = ["reference", "subject", "description", "contact_email"]
    list_select_related = ["category", "company", "assignee"]
    raw_id_fields = ["requester", "assignee", "company"]
    readonly_fields = ["reference", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [MessageInline]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["original_name", "content_type", "size", "message", "created_at"]
    search_fields = ["original_name", "message__ticket__reference"]
    raw_id_fields = ["message"]


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "ticket", "kind", "actor"]
    list_filter = ["kind"]
    search_fields = ["ticket__reference"]
    list_select_related = ["ticket", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
