import email
from datetime import UTC, datetime
from email import policy

import pytest

from campaigns.emails.compose import compose_email
from campaigns.emails.merge import MergeContext, ProductLink, clean_value
from campaigns.emails.message import build_message
from campaigns.emails.prepared import prepare_email

SENT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
FOOTER = '<p>Bye. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
TEMPLATES = {
    "plain": '<h1>Hi {{ first_name | "friend" }}</h1><p>New <a href="https://tea.example/a">teas'
             '</a> and <a href="https://tea.example/b">cups</a>.</p>' + FOOTER,
    "every tag": "<p>{{ full_name }} / {{ last_name }} / {{ email }} / {{ shop_name }}</p>"
                 '<p>{{ recommended_products }}</p><p>Leave: {{ unsubscribe_url }}</p>' + FOOTER,
    "fallbacks": '<p>Dear {{ first_name | "reader" }} {{ last_name | "X" }},</p>'
                 '<ul><li>{{ full_name | "you" }}</li></ul>' + FOOTER,
}
RECIPIENTS = [
    ("Ada", "Lovelace", "ada@example.org"),
    ("O'Brien & <Sons>", 'Zoë "Z"', "zoe@example.org"),
    ("", "Solo", "solo@example.org"),
    ("Ann", "", "ann@example.org"),
    ("", "", "nobody@example.org"),
    ("x\nX-Injected: 1", "y\u2028z", "inj@example.org"),
    ("{{ unsubscribe_url }}", "{% debug %}", "tags@example.org"),
    ("  José  María ", "Ñúñez\u00a0Ruiz", "jose@example.org"),
    ("zq0123456789abfirstname", "&amp;", "odd@example.org"),
]
PRODUCTS = [(), (ProductLink(name="Sencha <green>"), ProductLink(name="Oolong"))]


def urls(recipient_id, links):
    base = f"https://shop.example.com/u/{recipient_id}:sig-_/"
    return {
        "unsubscribe_url": base,
        "unsubscribe_post_url": base + "one-click/",
        "open_pixel_url": f"https://shop.example.com/t/o/{recipient_id}:sig.gif",
        "click_urls": [f"https://shop.example.com/t/c/{recipient_id}.{i}:sig" for i in range(links)],
    }


def reference(template, products, first, last, address, u):
    context = MergeContext(unsubscribe_url=u["unsubscribe_url"], first_name=first,
                           last_name=last, email=address, shop_name="Tea & Co",
                           recommended_products=products)
    composed = compose_email(subject_template='Hello {{ first_name | "there" }}!',
                             html_template=template, context=context,
                             track=lambda index, url: u["click_urls"][index],
                             open_pixel_url=u["open_pixel_url"])
    return build_message(
        subject=composed.subject, from_name="Tea & Co", from_address="hello@tea.example",
        to_name=f"{first} {last}".strip(), to_address=address, html_body=composed.html,
        text_body=composed.text, message_id_seed=f"seed-{address}", domain="tea.example",
        unsubscribe_url=u["unsubscribe_url"], unsubscribe_post_url=u["unsubscribe_post_url"],
        date=SENT,
    ).as_bytes()


def fast(template, products, first, last, address, u):
    empty = frozenset(tag for tag, value in
                      (("first_name", first), ("last_name", last), ("email", address))
                      if not clean_value(value))
    prepared = prepare_email(
        subject_template='Hello {{ first_name | "there" }}!', html_template=template,
        shop_name="Tea & Co", from_name="Tea & Co", from_address="hello@tea.example",
        domain="tea.example", products=products, one_click=True, open_pixel=True, empty=empty,
    )
    assert prepared is not None
    filled = prepared.fill(first_name=first, last_name=last, to_name=f"{first} {last}".strip(),
                           to_address=address, message_id_seed=f"seed-{address}", date=SENT, **u)
    assert filled is not None
    return filled.payload


def summary(raw: bytes) -> dict:
    message = email.message_from_bytes(raw, policy=policy.default)
    parts = list(message.iter_parts())
    return {
        "headers": [(name, str(value)) for name, value in message.items()
                    if name != "Content-Type"],
        "type": message.get_content_type(),
        "parts": [(p.get_content_type(), p.get_content_charset(), p["Content-Transfer-Encoding"],
                   p.get_content()) for p in parts],
        "defects": [type(d).__name__ for p in [message, *parts] for d in p.defects],
    }


@pytest.mark.parametrize("template", TEMPLATES.values(), ids=TEMPLATES.keys())
@pytest.mark.parametrize("products", PRODUCTS, ids=["no products", "products"])
@pytest.mark.parametrize("first, last, address", RECIPIENTS)
def test_a_prepared_email_filled_in_is_the_message_the_full_pipeline_builds(
    template, products, first, last, address
):
    u = urls(42, links=template.count("https://tea.example/"))

    got = fast(template, products, first, last, address, u)

    assert summary(got) == summary(reference(template, products, first, last, address, u))
    assert summary(got)["defects"] == []
    assert all(len(line) <= 998 for line in got.split(b"\r\n"))
    assert b"\n" not in got.replace(b"\r\n", b"")


@pytest.mark.parametrize("template", [
    '<p><a href="https://tea.example/a">{{ first_name }}</a></p>',
    '<p><img src="https://tea.example/i.png" alt="{{ first_name }}"></p>',
    '<p><a href="https://tea.example/{{ first_name }}">you</a></p>',
])
def test_a_name_inside_a_link_or_an_attribute_is_left_to_the_full_pipeline(template):
    prepared = prepare_email(
        subject_template="Hi", html_template=template, shop_name="Tea", from_name="Tea",
        from_address="hello@tea.example", domain="tea.example", one_click=True, open_pixel=True,
    )

    assert prepared is None


def test_a_recipient_of_another_variant_is_refused_rather_than_filled_wrongly():
    prepared = prepare_email(
        subject_template="Hi", html_template=TEMPLATES["fallbacks"], shop_name="Tea",
        from_name="Tea", from_address="hello@tea.example", domain="tea.example",
        one_click=True, open_pixel=True,
    )

    filled = prepared.fill(first_name="", last_name="Solo", to_name="Solo",
                           to_address="solo@example.org", message_id_seed="s", **urls(1, 0))

    assert filled is None
