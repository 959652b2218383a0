from html.parser import HTMLParser

import pytest

from campaigns.emails.links import (
    FoundLink,
    append_open_pixel,
    open_pixel_html,
    track_links,
)


def tracker(index, url):
    return f"https://t.example/c/{index}"


class _Hrefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href"))


def hrefs(html):
    parser = _Hrefs()
    parser.feed(html)
    return parser.hrefs


def test_every_http_link_is_replaced_by_the_tracked_url_and_reported_in_order():
    html = (
        '<p><a href="https://shop.example/a">A</a>\n'
        '<a title="b" href="http://shop.example/b?x=1&amp;y=2">B</a></p>'
        '<a href="https://shop.example/a">A again</a>'
    )

    result = track_links(html, tracker)

    assert hrefs(result.html) == [
        "https://t.example/c/0",
        "https://t.example/c/1",
        "https://t.example/c/2",
    ]
    assert result.links == (
        FoundLink(index=0, url="https://shop.example/a"),
        FoundLink(index=1, url="http://shop.example/b?x=1&y=2"),
        FoundLink(index=2, url="https://shop.example/a"),
    )


def test_the_tracked_html_contains_no_original_target_so_the_tracker_cannot_redirect_anywhere():
    result = track_links('<a href="https://shop.example/secret-sale">x</a>', tracker)

    assert "secret-sale" not in result.html


def test_link_text_and_other_attributes_survive_rewriting():
    result = track_links(
        '<p>Before <a href="https://a.example" style="color:red" title="T">Shop &amp; save</a> after</p>',
        tracker,
    )

    assert result.html == (
        '<p>Before <a href="https://t.example/c/0" style="color:red" title="T">Shop &amp; save</a> after</p>'
    )


def test_mailto_links_and_excluded_urls_are_left_alone():
    html = '<a href="mailto:hi@shop.example">m</a><a href="https://shop.example/u/abc">unsub</a>'

    result = track_links(html, tracker, exclude={"https://shop.example/u/abc"})

    assert result.html == html
    assert result.links == ()


def test_a_tracker_returning_a_non_http_url_is_refused():
    with pytest.raises(ValueError):
        track_links('<a href="https://a.example">x</a>', lambda index, url: "javascript:alert(1)")


def test_the_open_pixel_is_a_one_by_one_image_with_an_escaped_url():
    pixel = open_pixel_html("https://t.example/o/1?r=2&s=3")

    assert pixel.startswith('<img src="https://t.example/o/1?r=2&amp;s=3"')
    assert 'width="1" height="1"' in pixel
    assert 'alt=""' in pixel


def test_the_open_pixel_goes_last_inside_the_body():
    html = append_open_pixel("<html><body><p>x</p></body></html>", "https://t.example/o/1")

    assert html.endswith('border:0"></body></html>')


@pytest.mark.parametrize("url", ["javascript:alert(1)", '"><script>', "/o/1"])
def test_the_open_pixel_refuses_urls_that_are_not_absolute_http(url):
    with pytest.raises(ValueError):
        open_pixel_html(url)
