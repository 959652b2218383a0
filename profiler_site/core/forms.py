from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import UsernameField
from django.utils.translation import gettext_lazy as _

from .models import ApiKeyScope
from .shop import UrlProblem, product_url_template_problem


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


class ShopSettingsForm(forms.Form):
    """The shop's facts an owner can change here; the environment gives the first values."""

    name = forms.CharField(label=_("Shop name"), max_length=150, required=False,
                           help_text=_("Shown on unsubscribe pages and in emails ({{ shop_name }})."))
    currency = forms.ChoiceField(label=_("Currency"), help_text=_("Every amount is shown in it."))
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Dates are shown in it, and order times without a zone are read in it."))
    sender_name = forms.CharField(label=_("Sender name"), max_length=150, required=False,
                                  help_text=_("The From name a new campaign starts with."))
    sender_address = forms.EmailField(label=_("Sender address"), required=False,
                                      help_text=_("The From address a new campaign starts with."))
    marketing_emails_per_week = forms.IntegerField(
        # Not required: a form posted without it (an older page) keeps the saved value.
        label=_("Marketing emails per customer per week"), min_value=0, max_value=100,
        required=False,
        help_text=_("At most this many campaign and flow emails reach one customer in any 7 "
                    "days; the rest are skipped and counted. 0: no limit."))

    product_url_template = forms.CharField(
        # Not required: a form posted without it (an older page) keeps the saved value.
        label=_("Product page address"), max_length=500, required=False,
        help_text=_("Links the recommended products in emails: your shop's product page "
                    "with {sku} where the SKU goes, e.g. https://shop.example/products/{sku}. "
                    "Empty: names with prices, no links."))

    URL_PROBLEMS = {
        UrlProblem.NOT_WEB: _("Enter a web address starting with http:// or https://."),
        UrlProblem.NO_SKU: _("Put {sku} where the product's SKU goes."),
        UrlProblem.BRACES: _("Only {sku} may be in braces."),
    }

    def __init__(self, *args, currencies: list[str], time_zones: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(c, c) for c in currencies]
        self.fields["time_zone"].choices = [(z, z) for z in time_zones]

    def clean_product_url_template(self) -> str | None:
        if "product_url_template" not in self.data:
            return None  # an older page without the field: the saved value stays
        template = self.cleaned_data["product_url_template"].strip()
        problem = product_url_template_problem(template)
        if problem:
            raise forms.ValidationError(self.URL_PROBLEMS[problem])
        return template


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("Where the key is used, e.g. “shop website”."))
    scope = forms.ChoiceField(label=_("Allowed"), choices=ApiKeyScope.choices,
                              initial=ApiKeyScope.EVENTS)
    expires_in_days = forms.IntegerField(
        label=_("Expires after (days)"), required=False, min_value=1, max_value=3650,
        help_text=_("Empty: never expires. You can revoke a key at any time."))
