from django.contrib import admin
from django.urls import include, path

from accounts.login_throttle import throttled_login
from core import metrics_view
from ops import views as ops_views

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("admin/login/", throttled_login(admin.site.login)),  # before admin's own route
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("metrics", metrics_view.metrics, name="prometheus-django-metrics"),
    path("", include("web.urls")),
]
