from django.contrib import admin
from django.urls import include, path

from ops import views as ops_views

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("", include("django_prometheus.urls")),  # /metrics
    path("", include("web.urls")),
]
