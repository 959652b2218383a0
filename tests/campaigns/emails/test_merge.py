import pytest

from campaigns.emails.merge import (
    MergeContext,
    ProductLink,
    UnknownMergeTagError,
    find_unknown_tags,
    render,
)

UNSUBSCRIBE = "https://shop.example/u/abc"


def context(**values):
    return MergeContext(unsubscribe_url=UNSUBSCRIBE, **values)


def test_known_tags_are_replaced_by_the_recipients_values():
    ctx = context(
        first_name="Ada", last_name="Lovelace", email="ada@example.org", shop_name="Tea Co"
    )
    text = "{{ first_name }} / {{last_name}} / {{ full_name }} / {{ email }} / {{ shop_name }}"

    assert (
        render(text, ctx, html=False) == "Ada / Lovelace / Ada Lovelace / ada@example.org / Tea Co"
    )


@pytest.mark.parametrize("empty", ["", "   ", "\r\n"])
def test_an_empty_value_falls_back_to_the_quoted_default(empty):
    assert (
        render('Hi {{ first_name | "there" }}!', context(first_name=empty), html=False)
        == "Hi there!"
    )


def test_an_empty_value_without_a_default_renders_as_nothing():
    assert render("Hi {{ first_name }}!", context(), html=False) == "Hi !"


def test_a_fallback_written_as_an_html_entity_quote_is_understood():
    assert render("{{ first_name | &quot;friend&quot; }}", context(), html=True) == "friend"


@pytest.mark.parametrize(
    "hostile",
    [
        "{{ unsubscribe_url }}",
        "{{ first_name }}",
        "{% debug %}",
        "{{ }}",
        "{{ recommended_products }}",
    ],
)
@pytest.mark.parametrize("as_html", [True, False])
def test_a_value_that_looks_like_a_tag_is_printed_literally_not_interpreted(hostile, as_html):
    rendered = render("Hi {{ first_name }}", context(first_name=hostile), html=as_html)

    assert rendered == f"Hi {hostile}"
    assert UNSUBSCRIBE not in rendered


@pytest.mark.parametrize(
    ("hostile", "escaped"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('" onmouseover="alert(1)', "&quot; onmouseover=&quot;alert(1)"),
        ("O'Brien & Sons", "O&#x27;Brien &amp; Sons"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
    ],
)
def test_values_are_html_escaped_in_html(hostile, escaped):
    assert (
        render("<p>{{ first_name }}</p>", context(first_name=hostile), html=True)
        == f"<p>{escaped}</p>"
    )


def test_values_are_not_escaped_in_plain_text():
    assert render("{{ first_name }}", context(first_name="<Bob & Co>"), html=False) == "<Bob & Co>"


@pytest.mark.parametrize(
    "hostile",
    ["Ada\r\nBcc: evil@example.com", "Ada\nBcc: x", "Ada\u2028Bcc: x", "Ada\x00\x0bBcc: x"],
)
def test_line_breaks_in_values_collapse_to_spaces_so_a_subject_stays_one_line(hostile):
    rendered = render("Hello {{ first_name }}", context(first_name=hostile), html=False)

    assert rendered.startswith("Hello Ada")
    assert rendered.endswith(("Bcc: evil@example.com", "Bcc: x"))
    assert not any(char in rendered for char in "\r\n\u2028\x00\x0b")


def test_recommended_products_render_as_an_html_list_with_links_when_known():
    ctx = context(
        recommended_products=(
            ProductLink(name="Green tea", url="https://shop.example/p/1?a=1&b=2"),
            ProductLink(name="Mug <large>"),
        )
    )

    rendered = render("{{ recommended_products }}", ctx, html=True)

    assert rendered == (
        '<ul><li><a href="https://shop.example/p/1?a=1&amp;b=2">Green tea</a></li>'
        "<li>Mug &lt;large&gt;</li></ul>"
    )


def test_recommended_products_render_as_dash_lines_in_plain_text():
    ctx = context(
        recommended_products=(
            ProductLink(name="Green tea", url="https://shop.example/p/1"),
            ProductLink(name="Mug"),
        )
    )

    assert render("{{ recommended_products }}", ctx, html=False) == (
        "- Green tea (https://shop.example/p/1)\n- Mug"
    )


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,x", "//evil.example", "/relative", "https://"]
)
def test_a_product_url_that_is_not_absolute_http_is_not_linked(url):
    ctx = context(recommended_products=(ProductLink(name="Tea", url=url),))

    assert render("{{ recommended_products }}", ctx, html=True) == "<ul><li>Tea</li></ul>"


def test_no_recommended_products_uses_the_fallback():
    assert (
        render('{{ recommended_products | "See our shop" }}', context(), html=True)
        == "See our shop"
    )


def test_the_unsubscribe_url_is_escaped_for_an_attribute():
    ctx = MergeContext(unsubscribe_url="https://shop.example/u?a=1&b=2")

    assert render('<a href="{{ unsubscribe_url }}">', ctx, html=True) == (
        '<a href="https://shop.example/u?a=1&amp;b=2">'
    )


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "", "/u/abc", "https://shop.example/u\r\nBcc: x"]
)
def test_a_context_refuses_an_unsubscribe_url_that_is_not_absolute_http(url):
    with pytest.raises(ValueError):
        MergeContext(unsubscribe_url=url)


@pytest.mark.parametrize(
    ("text", "unknown"),
    [
        ("Hi {{ first_name }} {{ unsubscribe_url }}", []),
        ("Hi {{ frist_name }}", ["{{ frist_name }}"]),
        ("Hi {{ first_name | there }}", ["{{ first_name | there }}"]),
        ("{% if vip %}Hi{% endif %}", ["{% if vip %}", "{% endif %}"]),
        ("{{ }}", ["{{ }}"]),
        ("{{ customer.password }}", ["{{ customer.password }}"]),
        ("{{ First_Name }}", ["{{ First_Name }}"]),
        ("a { b } {{ not closed", []),
    ],
)
def test_unknown_or_malformed_tags_are_reported(text, unknown):
    assert find_unknown_tags(text) == unknown


def test_rendering_a_template_with_an_unknown_tag_fails_instead_of_sending_it():
    with pytest.raises(UnknownMergeTagError) as error:
        render("Hi {{ nickname }}", context(first_name="Ada"), html=False)

    assert error.value.tags == ["{{ nickname }}"]


def test_a_recommended_product_with_a_price_shows_it_beside_the_name_in_html_and_text():
    ctx = context(recommended_products=(
        ProductLink(name="Green tea", url="https://shop.example/p/1", price="$4.50"),
        ProductLink(name="Mug", price="<b>€9</b>"),
        ProductLink(name="Spoon"),
    ))

    assert render("{{ recommended_products }}", ctx, html=True) == (
        '<ul><li><a href="https://shop.example/p/1">Green tea</a> — $4.50</li>'
        "<li>Mug — &lt;b&gt;€9&lt;/b&gt;</li><li>Spoon</li></ul>"
    )
    assert render("{{ recommended_products }}", ctx, html=False) == (
        "- Green tea — $4.50 (https://shop.example/p/1)\n- Mug — <b>€9</b>\n- Spoon"
    )
