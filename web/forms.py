"""Forms of the website: sign-up, watchlist additions, the settings page and deleting the
account."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts import privacy
from accounts.models import User
from ingestion.models import Symbol
from web.auth import AuthenticatedRequest


class SignupForm(UserCreationForm[User]):
    email = forms.EmailField(required=True, help_text="Used only to reach you about your account.")
    consent = forms.BooleanField(
        required=True,
        label="I agree that StockPred stores the data listed above, for those purposes",
        error_messages={"required": "An account needs this data: agree to create one."},
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class DeleteAccountForm(forms.Form):
    """Deleting the account: the password again and an explicit confirmation."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        required=True,
        label="I understand that my account and its data are deleted for good",
        error_messages={"required": "Tick the box to confirm."},
    )

    def __init__(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "delete")
        super().__init__(*args, **kwargs)
        self.request = request
        self.retry_after: int | None = None

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        password = self.cleaned_data.get("password")
        if password and self.cleaned_data.get("confirm"):  # no check, no count, unconfirmed
            try:
                privacy.confirm_password(self.request, self.request.user, password)
            except privacy.PasswordRefused as exc:
                self.retry_after = exc.retry_after
                self.add_error("password", str(exc))
        return cleaned


class WatchlistAddForm(forms.Form):
    symbol = forms.CharField(
        max_length=16,
        label="Symbol",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_symbol(self) -> Symbol:
        ticker = self.cleaned_data["symbol"].strip().upper()
        symbol = Symbol.objects.filter(ticker=ticker, active=True).first()
        if symbol is None:
            raise forms.ValidationError(f"Unknown symbol {ticker}.")
        return symbol


class SettingsForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ("first_name", "last_name", "email")
