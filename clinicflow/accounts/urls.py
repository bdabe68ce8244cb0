from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import views

app_name = "accounts"
urlpatterns = [
    path("account/language/", views.language, name="language"),
    path("account/two-factor/", views.two_factor, name="two_factor"),
    path("account/two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("account/two-factor/remove/", views.two_factor_remove, name="two_factor_remove"),
    # The invitation link from Settings → Users → add: Django's password-reset token, used once.
    path("account/set-password/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(
        success_url=reverse_lazy("accounts:set_password_done")), name="set_password"),
    path("account/set-password/done/", auth_views.PasswordResetCompleteView.as_view(), name="set_password_done"),
]
