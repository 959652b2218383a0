import pytest
from django.core import signing

from campaigns.services.tokens import (
    CLICK_SALT,
    OPEN_SALT,
    UNSUBSCRIBE_SALT,
    click_token,
    click_token_read,
    open_token,
    unsubscribe_token,
)


@pytest.mark.parametrize("salt, make, value", [
    (CLICK_SALT, lambda: click_token(recipient_id=12, link_id=3), "12.3"),
    (OPEN_SALT, lambda: open_token(recipient_id=12), "12"),
    (UNSUBSCRIBE_SALT, lambda: unsubscribe_token(recipient_id=12), "12"),
])
def test_a_token_is_exactly_what_djangos_signer_makes(salt, make, value):
    assert make() == signing.Signer(salt=salt).sign(value)


def test_a_new_secret_key_signs_new_tokens_and_old_ones_stop_working(settings):
    old = click_token(recipient_id=1, link_id=2)

    settings.SECRET_KEY = "another secret key for this test, long enough to be one"

    assert click_token(recipient_id=1, link_id=2) != old
    assert click_token_read(old) is None
    assert click_token_read(click_token(recipient_id=1, link_id=2)).link_id == 2
