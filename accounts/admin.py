"""Users for operators: tier, consents, the data export and erasure (``accounts.privacy``).

Deleting a user here (the delete button or the "Delete selected" action) is an erasure: the
same service as the user's own deletion, so tokens are revoked, WebSockets closed and the
admin log entry of the deletion keeps no name."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from accounts import privacy
from accounts.models import Consent, PrivacyEvent, PrivacyEventVia, User


@admin.register(User)
class PlatformUserAdmin(UserAdmin[User]):
    list_display = ("username", "email", "tier", "is_staff", "is_active", "date_joined")
    list_filter = ("tier", "is_staff", "is_active")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Subscription", {"fields": ("tier",)}),
        ("Privacy", {"fields": ("consents_given",)}),
    )
    add_fieldsets = (*(UserAdmin.add_fieldsets or ()), ("Subscription", {"fields": ("tier",)}))
    readonly_fields = ("consents_given",)
    actions = ("export_personal_data",)

    @admin.action(description="Export the selected user's personal data (JSON)")
    def export_personal_data(
        self, request: HttpRequest, queryset: QuerySet[User]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one user.", messages.ERROR)
            return None
        document = privacy.export(queryset.get(), PrivacyEventVia.ADMIN)
        return privacy.download(document)

    @admin.display(description="Consents given")
    def consents_given(self, user: User) -> str:
        consents = Consent.objects.filter(user=user)
        return "; ".join(str(c) for c in consents) or "none (account not made by sign-up)"

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        try:
            receipt = privacy.erase(obj, PrivacyEventVia.ADMIN)
        except privacy.AccountGone:
            return  # another operator's (or the user's own) erasure came first
        self.message_user(request, f"Account erased (reference {receipt.reference}).")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in list(queryset):
            self.delete_model(request, user)


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin[Consent]):
    """What each user agreed to at sign-up; records, never edited here."""

    list_display = ("user", "notice_version", "given_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "notice_version")
    readonly_fields = ("user", "notice_version", "statement", "given_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PrivacyEvent)
class PrivacyEventAdmin(admin.ModelAdmin[PrivacyEvent]):
    """Exports and erasures: what happened, how and when; never whose."""

    list_display = ("occurred_at", "kind", "via", "reference")
    list_filter = ("kind", "via")
    search_fields = ("reference",)
    readonly_fields = ("occurred_at", "kind", "via", "reference", "details")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
