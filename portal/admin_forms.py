"""The admin answers a form it refuses with 400, like the portal's own pages.

Django's admin shows a refused add or change form again with 200; a client, a test or a
monitor then cannot tell it from a page opened to edit. The portal's admin site gives this
to every model admin it registers.
"""

from __future__ import annotations

from django.contrib import admin


class RefusedFormStatusAdmin:
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        context = getattr(response, "context_data", None) or {}
        if request.method == "POST" and response.status_code == 200 and context.get("errors"):
            response.status_code = 400
        return response


def with_refused_form_status(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    if issubclass(admin_class, RefusedFormStatusAdmin):
        return admin_class
    return type(admin_class.__name__, (RefusedFormStatusAdmin, admin_class), {})
