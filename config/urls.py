from django.contrib import admin
from django.urls import include, path

from core import metrics_view
from core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("metrics", metrics_view.metrics, name="prometheus-django-metrics"),
    path("", include("web.urls")),
]
