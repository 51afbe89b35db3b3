from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class PlatformUserAdmin(UserAdmin[User]):
    list_display = ("username", "email", "tier", "is_staff", "is_active", "date_joined")
    list_filter = ("tier", "is_staff", "is_active")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Subscription", {"fields": ("tier",)}))
    add_fieldsets = (*(UserAdmin.add_fieldsets or ()), ("Subscription", {"fields": ("tier",)}))
