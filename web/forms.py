"""Forms of the website: sign-up, watchlist additions and the settings page."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import User
from ingestion.models import Symbol


class SignupForm(UserCreationForm[User]):
    email = forms.EmailField(required=True, help_text="Used only to reach you about your account.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


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
