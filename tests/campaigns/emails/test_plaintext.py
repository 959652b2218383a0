from campaigns.emails.plaintext import html_to_text


def test_paragraphs_are_separated_by_blank_lines_and_whitespace_is_collapsed():
    assert html_to_text("<h1>Spring   sale</h1><p>All\n tea\t20% off.</p>") == (
        "Spring sale\n\nAll tea 20% off.\n"
    )


def test_links_are_written_as_text_followed_by_the_url():
    assert html_to_text('<p>See <a href="https://shop.example/sale">the sale</a>.</p>') == (
        "See the sale (https://shop.example/sale).\n"
    )


def test_a_link_whose_text_is_its_url_is_not_repeated():
    assert html_to_text('<p><a href="https://shop.example">https://shop.example</a></p>') == (
        "https://shop.example\n"
    )


def test_mailto_links_show_the_address():
    assert html_to_text('<p><a href="mailto:hi@shop.example">Write to us</a></p>') == (
        "Write to us (hi@shop.example)\n"
    )


def test_lists_become_dash_and_numbered_lines_without_blank_lines_between_items():
    html = "<p>Picks:</p><ul><li>Tea</li><li>Mug<ul><li>Blue</li></ul></li></ul><ol><li>a</li><li>b</li></ol>"

    assert html_to_text(html) == "Picks:\n\n- Tea\n- Mug\n  - Blue\n\n1. a\n2. b\n"


def test_line_breaks_are_kept_and_entities_decoded():
    assert html_to_text("<p>a &amp; b<br>&lt;c&gt;</p>") == "a & b\n<c>\n"


def test_style_and_script_content_never_reaches_the_text():
    assert html_to_text("<style>p{color:red}</style><p>x</p><script>alert(1)</script>") == "x\n"


def test_images_contribute_their_alt_text():
    assert html_to_text('<p><img src="https://x.example/l.png" alt="Tea Co"></p>') == "Tea Co\n"


def test_table_rows_become_lines():
    assert html_to_text(
        "<table><tr><td>Tea</td><td>4.50</td></tr><tr><td>Mug</td><td>9</td></tr></table>"
    ) == ("Tea 4.50\nMug 9\n")


def test_empty_html_gives_empty_text():
    assert html_to_text("") == ""
