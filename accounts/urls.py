from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("org/<slug:code>/", views.organization_accounts, name="organization_accounts"),
    path("org/<slug:code>/create/", views.organization_accounts_create, name="organization_accounts_create"),
    path("org/<slug:code>/new-codes/", views.organization_accounts_reissue, name="organization_accounts_reissue"),
    path("member/<uuid:public_id>/reset/", views.member_password_reset, name="member_password_reset"),
    path("member/<uuid:public_id>/unlock/", views.member_signin_unlock, name="member_signin_unlock"),
]
