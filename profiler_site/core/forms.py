from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import UsernameField
from django.utils.translation import gettext_lazy as _

from .models import ApiKeyScope


class OwnerAccountForm(forms.Form):
    # Shown only where settings.SETUP_TOKEN_REQUIRED (the view removes it otherwise).
    setup_token = forms.CharField(
        label=_("Setup token"), max_length=100,
        help_text=_("Printed in the server's log on first start (docker compose logs web)."))
    username = UsernameField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"), help_text=_("Test campaigns are sent here."))
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput, strip=False
    )

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        if p1:
            from django.contrib.auth.models import User

            probe = User(username=data.get("username", ""), email=data.get("email", ""))
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("Where the key is used, e.g. “shop website”."))
    scope = forms.ChoiceField(label=_("Allowed"), choices=ApiKeyScope.choices,
                              initial=ApiKeyScope.EVENTS)
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"), required=False, min_value=1, max_value=3650,
        help_text=_("Empty: never expires. You can revoke a key at any time."))
