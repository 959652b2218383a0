import pytest

from campaigns.services.sending import SmtpSender, SmtpUnavailable


def _sender(smtp_server, **options) -> SmtpSender:
    return SmtpSender(host="127.0.0.1", port=smtp_server.port, username="shop",
                      password="s3cret", retry_delays=(), **options)


def test_a_login_over_plaintext_smtp_is_refused_before_connecting(smtp_server):
    sender = _sender(smtp_server)

    with pytest.raises(SmtpUnavailable, match="plain text"):
        sender.deliver(from_address="shop@example.com", to_address="a@example.com",
                       payload=b"Subject: x\r\n\r\nhello\r\n")

    assert smtp_server.handler.connections == 0 and sender.connections_opened == 0


def test_the_settings_carry_the_explicit_permission(smtp_server, settings):
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "shop", "s3cret"
    assert SmtpSender.from_settings().allow_plaintext_login is False

    settings.EMAIL_ALLOW_PLAINTEXT_LOGIN = True

    assert SmtpSender.from_settings().allow_plaintext_login is True


def test_when_allowed_a_plaintext_login_is_attempted(smtp_server):
    sender = _sender(smtp_server, allow_plaintext_login=True)

    # The test server offers no AUTH: reaching it at all is what this shows.
    with pytest.raises(SmtpUnavailable, match="SMTP"):
        sender.deliver(from_address="shop@example.com", to_address="a@example.com",
                       payload=b"Subject: x\r\n\r\nhello\r\n")

    assert smtp_server.handler.connections == 1
