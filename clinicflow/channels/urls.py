from django.urls import path

from . import views
from .registry import ADAPTERS

# One explicit route per channel: the public contract (docs/integration.md) is this list.
urlpatterns = [path(f"hooks/{name}", views.hook, {"name": name}, name=f"hook-{name}") for name in ADAPTERS]
