from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("account/language/", views.language, name="language"),
    path("account/two-factor/", views.two_factor, name="two_factor"),
    path("account/two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("account/two-factor/remove/", views.two_factor_remove, name="two_factor_remove"),
]
