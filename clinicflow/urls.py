from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from clinicflow.api import api
from clinicflow.automation.views import healthz
from clinicflow.pages.views import home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url="/static/clinicflow/favicon.svg", permanent=True)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("clinicflow.inbox.urls")),
    path("", include("clinicflow.channels.urls")),
    path("", include("clinicflow.funnel.urls")),
    path("", include("clinicflow.pages.urls")),
    path("", include("clinicflow.compliance.urls")),
    path("", include("clinicflow.reports.urls")),
    path("", include("clinicflow.imports.urls")),
    path("", include("clinicflow.tasks.urls")),
    path("", include("clinicflow.scheduling.urls")),
    path("", include("clinicflow.accounts.urls")),
    path("", include("clinicflow.mis.urls")),
    path("", include("clinicflow.robots.urls")),
]

admin.site.site_header = "clinicflow"
admin.site.site_title = _("clinicflow admin")
