"""HTML and Confluence storage format to readable text (scanner/sources/htmltext.py)."""

from __future__ import annotations

import random

from scanner.sources.htmltext import html_to_text
from tests.tokenfactory import github_style, npm_token


def test_inline_spans_join_without_spaces() -> None:
    token = github_style("ghp", random.Random(1))
    markup = f'<p>token: <span class="a">{token[:9]}</span><span>{token[9:20]}</span><b>{token[20:]}</b></p>'
    assert html_to_text(markup) == f"token: {token}"


def test_block_elements_break_lines_and_cells_stay_on_their_row() -> None:
    markup = (
        "<h1>Runbook</h1><p>first</p><div>second<br>third</div>"
        "<ul><li>one</li><li>two</li></ul>"
        "<table><tr><th>key</th><th>value</th></tr><tr><td>a</td><td>b</td></tr></table>"
    )
    assert html_to_text(markup).split("\n") == [
        "Runbook",
        "first",
        "second",
        "third",
        "one",
        "two",
        "key\tvalue",
        "a\tb",
    ]


def test_entities_are_decoded_once() -> None:
    markup = "<p>a &amp; b &lt;tag&gt; &#65;&#x42; &quot;q&quot; &amp;lt;</p>"
    assert html_to_text(markup) == 'a & b <tag> AB "q" &lt;'


def test_escaped_markup_is_text_not_tags() -> None:
    assert html_to_text("<p>&lt;span&gt;x&lt;/span&gt;</p>") == "<span>x</span>"


def test_script_style_and_comments_are_dropped() -> None:
    markup = (
        "<html><head><title>Window</title><style>p { color: red }</style><script>var t = '<p>no</p>';</script></head>"
        "<body><!-- hidden <p>nope</p> --><p>shown</p><SCRIPT type='x'>also</SCRIPT></body></html>"
    )
    assert html_to_text(markup) == "shown"


def test_whitespace_collapses_outside_pre_and_is_kept_inside() -> None:
    markup = (
        "<div>\n   several\n   words   here\n</div><pre>  indented\n    more  space</pre><p>x <code>a  b</code></p>"
    )
    assert html_to_text(markup).split("\n") == ["several words here", "  indented", "    more  space", "x a  b"]


def test_inline_markup_inside_pre_is_removed_but_layout_kept() -> None:
    markup = '<pre><span class="k">export</span> NPM_TOKEN=<span class="s">abc</span>\n  next</pre>'
    assert html_to_text(markup) == "export NPM_TOKEN=abc\n  next"


def test_confluence_code_macro_yields_its_cdata_verbatim() -> None:
    token = npm_token(random.Random(2))
    markup = (
        "<p>Publish with:</p>"
        '<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="1f2e">'
        '<ac:parameter ac:name="language">bash</ac:parameter>'
        '<ac:plain-text-body><![CDATA[echo "//registry.npmjs.org/:_authToken='
        f'{token}" > .npmrc\n  <b>not a tag</b> &amp; raw]]></ac:plain-text-body>'
        "</ac:structured-macro><p>done</p>"
    )
    lines = html_to_text(markup).split("\n")
    assert lines == [
        "Publish with:",
        "bash",
        f'echo "//registry.npmjs.org/:_authToken={token}" > .npmrc',
        "  <b>not a tag</b> &amp; raw",
        "done",
    ]


def test_confluence_links_and_emoticons_are_inline() -> None:
    markup = (
        '<p>see <ac:link><ri:page ri:content-title="Release" /><ac:plain-text-link-body>'
        '<![CDATA[the page]]></ac:plain-text-link-body></ac:link> now<ac:emoticon ac:name="tick" /></p>'
    )
    assert html_to_text(markup) == "see the page now"


def test_link_targets_that_can_carry_credentials_are_appended() -> None:
    token = npm_token(random.Random(3))
    markup = (
        f'<p><a href="https://example.test/dl?token={token}&amp;x=1">download</a> and <a href="/plain">plain</a></p>'
    )
    assert html_to_text(markup) == f"download and plain\nhttps://example.test/dl?token={token}&x=1"


def test_truncated_markup_still_yields_its_text() -> None:
    assert html_to_text("<p>start <span>abc") == "start abc"
    assert html_to_text("<p>one</p><pre>two\n  three") == "one\ntwo\n  three"
    assert html_to_text("<p>x</p><![CDATA[code") == "x\ncode"
    assert html_to_text('<p>a</p><div class="unclosed') == 'a\n<div class="unclosed'


def test_uppercase_and_odd_tags() -> None:
    assert html_to_text("<P>a</P><DIV>b<BR>c</DIV>x < y") == "a\nb\nc\nx < y"


def test_plain_text_without_markup_is_unchanged() -> None:
    assert html_to_text("just words") == "just words"
    assert html_to_text("") == ""
