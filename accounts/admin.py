from django.contrib import admin

from .models import FailedLogin


@admin.register(FailedLogin)
class FailedLoginAdmin(admin.ModelAdmin):
    """Read-only: the board can see who is being locked out, and delete rows to unlock early."""

    list_display = ["username", "ip_address", "attempted_at"]
    search_fields = ["username"]
    list_filter = ["attempted_at"]
    fields = ["username", "ip_address", "attempted_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
