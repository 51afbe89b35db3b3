from django.contrib import admin
from django.urls import include, path

from accounts.login_throttle import throttled_login
from core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/login/", throttled_login(admin.site.login)),  # before admin's own route
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("", include("django_prometheus.urls")),  # /metrics
    path("", include("web.urls")),
]
