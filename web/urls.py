"""Pages of the website (included at the site root by config/urls.py)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.login_throttle import throttled_login
from web.views import accounts, accuracy, backtest, dashboard, ops, pages, privacy, search, symbol

urlpatterns = [
    path("", pages.landing, name="home"),
    path("about", pages.about, name="about"),
    path("dashboard", dashboard.dashboard, name="dashboard"),
    path("dashboard/overview", dashboard.overview_partial, name="overview"),
    path("watchlist/add", dashboard.watchlist_add, name="watchlist_add"),
    path("watchlist/<int:item_id>/remove", dashboard.watchlist_remove, name="watchlist_remove"),
    path("search", search.search, name="search"),
    path("symbol/<str:ticker>", symbol.symbol_page, name="symbol"),
    path("accuracy", accuracy.accuracy, name="accuracy"),
    path("backtest", backtest.backtest, name="backtest"),
    path("ops", ops.ops, name="ops"),
    path("settings", accounts.settings_page, name="settings"),
    # Accounts: sign-up and profile here, the rest are Django's auth views.
    path("accounts/signup", accounts.signup, name="signup"),
    path("accounts/profile", accounts.profile, name="profile"),
    path("accounts/profile/tokens", accounts.create_token, name="token_create"),
    path("accounts/profile/tokens/<str:jti>/revoke", accounts.revoke_token, name="token_revoke"),
    path("accounts/profile/export", privacy.export_data, name="profile_export"),
    path("accounts/profile/delete", privacy.delete_account, name="account_delete"),
    path("accounts/ws-token", accounts.websocket_token, name="ws_token"),
    path(
        "accounts/login",
        throttled_login(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("accounts/logout", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
