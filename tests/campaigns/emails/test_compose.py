from email import message_from_bytes, policy

from campaigns.emails.compose import compose_email, template_errors
from campaigns.emails.merge import MergeContext, ProductLink
from campaigns.emails.message import build_message

TEMPLATE = (
    '<p style="color:#333;position:fixed">Hi {{ first_name | "there" }},</p>'
    "<p>{{ recommended_products }}</p>"
    '<p><a href="https://tea.example/sale">Sale</a> · <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
    "<script>alert(1)</script>"
)


def context(**values):
    return MergeContext(unsubscribe_url="https://tea.example/u/tok", **values)


def test_a_hostile_customer_name_ends_up_as_inert_text_in_every_part():
    ctx = context(first_name="<script>alert(1)</script>{{ unsubscribe_url }}{% debug %}")

    composed = compose_email(
        subject_template="{{ first_name }}, new tea", html_template=TEMPLATE, context=ctx
    )

    assert "<script>" not in composed.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ unsubscribe_url }}{% debug %}" in composed.html
    assert composed.text.startswith("Hi <script>alert(1)</script>{{ unsubscribe_url }}{% debug %},")
    assert composed.subject == "<script>alert(1)</script>{{ unsubscribe_url }}{% debug %}, new tea"


def test_links_are_tracked_except_unsubscribe_and_the_text_part_shows_real_urls():
    ctx = context(
        recommended_products=(ProductLink(name="Sencha", url="https://tea.example/p/sencha"),)
    )

    composed = compose_email(
        subject_template="Hi",
        html_template=TEMPLATE,
        context=ctx,
        track=lambda index, url: f"https://t.example/c/{index}",
    )

    assert [link.url for link in composed.links] == [
        "https://tea.example/p/sencha",
        "https://tea.example/sale",
    ]
    assert 'href="https://t.example/c/0"' in composed.html
    assert 'href="https://tea.example/u/tok"' in composed.html
    assert "https://tea.example/sale" not in composed.html
    assert "- Sencha (https://tea.example/p/sencha)" in composed.text


def test_the_owners_template_is_sanitised_before_sending():
    composed = compose_email(subject_template="Hi", html_template=TEMPLATE, context=context())

    assert "alert" not in composed.html
    assert "position" not in composed.html
    assert "color:#333" in composed.html
    assert "Hi there," in composed.html


def test_the_open_pixel_is_appended_when_asked():
    composed = compose_email(
        subject_template="Hi",
        html_template="<p>x</p>",
        context=context(),
        open_pixel_url="https://t.example/o/9",
    )

    assert composed.html.endswith(
        '<img src="https://t.example/o/9" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">'
    )


def test_template_errors_lists_unknown_tags_from_subject_html_and_text():
    errors = template_errors(
        subject="{{ frist_name }}", html="<p>{% if x %}</p>", text="{{ coupon }}"
    )

    assert errors == ["{{ frist_name }}", "{% if x %}", "{{ coupon }}"]


def test_a_composed_email_builds_into_a_sendable_message():
    composed = compose_email(
        subject_template='Hi {{ first_name | "there" }}',
        html_template=TEMPLATE,
        context=context(first_name="Ada\r\nBcc: eve@evil.example"),
    )

    raw = bytes(
        build_message(
            subject=composed.subject,
            from_name="Tea Co",
            from_address="hello@tea.example",
            to_name="Ada",
            to_address="ada@example.org",
            html_body=composed.html,
            text_body=composed.text,
            message_id_seed="c1:r1",
            domain="tea.example",
            unsubscribe_url="https://tea.example/u/tok",
        )
    )

    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "Hi Ada Bcc: eve@evil.example"
    assert msg["Bcc"] is None
