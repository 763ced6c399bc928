"""decode.py: which regions are decoded, what they decode to, exact offset
maps, the base64 anchors' coverage and cost, and the budget."""

from __future__ import annotations

import base64
import json
import random
import string
import time
from collections.abc import Callable

import pytest

from scanner import decode
from scanner.decode import BASE64_ANCHORS, DecodeBudget, DecodedRegion, OffsetMap, find_encoded_regions
from tests.tokenfactory import github_style, npm_token, pypi_token


def regions_of(text: str, encoding: str, **kwargs: object) -> list[DecodedRegion]:
    return find_encoded_regions(text, encodings=(encoding,), **kwargs)  # type: ignore[arg-type]


def b64(text: str, *, urlsafe: bool = False, padded: bool = True) -> str:
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(text.encode()).decode()
    return encoded if padded else encoded.rstrip("=")


def b64_bytes(rng: random.Random, size: int) -> str:
    return base64.b64encode(rng.randbytes(size)).decode()


def with_anchor(
    rng: random.Random, make: Callable[[random.Random], str], encode: Callable[[str], str]
) -> tuple[str, str]:
    """A credential whose encoding the anchors find by themselves (all but
    ~0.1% are; the rest only where a context rule captured them, see below)."""
    while True:
        secret = make(rng)
        encoded = encode(secret)
        if regions_of(encoded, "base64"):
            return secret, encoded


def assert_map_exact(parent: str, region: DecodedRegion) -> None:
    """Every decoded character comes from the parent text it maps to."""
    offsets = region.offsets
    assert offsets is not None and len(offsets) == len(region.text) + 1
    assert (offsets[0], offsets[-1]) == (region.start, region.end)
    for index, char in enumerate(region.text):
        source = parent[offsets[index] : offsets[index + 1]]
        if source == char:
            continue
        # An escape; several decoded characters from one escape map to its start.
        assert source == "" or source[0] in "%\\&", (index, char, source)


# --- offset maps ------------------------------------------------------------


def test_offset_map_is_a_sequence_with_one_entry_past_the_end() -> None:
    offsets = OffsetMap([0, 3, 4], [10, 15, 20], 7)
    assert len(offsets) == 7
    assert list(offsets) == [10, 11, 12, 15, 20, 21, 22]
    assert offsets[-1] == 22 and offsets[1:3] == [11, 12]
    with pytest.raises(IndexError):
        offsets[7]


def test_region_repr_never_shows_the_decoded_text() -> None:
    (region,) = regions_of("q=%6E%70%6D%5Fdecodedvalue", "percent")
    assert "decodedvalue" not in repr(region) and "npm_" not in repr(region)


# --- percent ------------------------------------------------------------------


def test_percent_escapes_on_a_keyword_line_are_decoded_with_an_exact_map(rng: random.Random) -> None:
    token = npm_token(rng)
    text = f"log: GET /cfg?npmrc=%2F%2Fregistry.npmjs.org%2F%3A_authToken%3D{token}&x=1\nnext\n"
    assert regions_of(text, "percent") == []  # no keyword given, nothing hidden
    (region,) = regions_of(text, "percent", keyword_hits=[[text.index("_authToken")]])
    assert region.text.startswith("log: GET /cfg?npmrc=//registry.npmjs.org/:_authToken=npm_")
    assert (region.start, region.end) == (0, text.index("\n"))
    assert_map_exact(text, region)
    decoded_start = region.text.index(token)
    assert region.parent_span(decoded_start, decoded_start + len(token)) == (
        text.index(token),
        text.index(token) + len(token),
    )


def test_percent_escapes_of_token_characters_are_decoded_anywhere(rng: random.Random) -> None:
    token = npm_token(rng)
    hidden = "%6E%70%6D%5F" + token[4:]
    text = f"a\nuser={hidden}\n"
    (region,) = regions_of(text, "percent")
    assert token in region.text
    start = region.text.index(token)
    assert region.parent_span(start, start + len(token)) == (text.index(hidden), len(text) - 1)


def test_percent_multibyte_utf8_maps_to_its_first_escape() -> None:
    text = "k=%C3%A9t%C3%A9%2F%41x"
    (region,) = regions_of(text, "percent", keyword_hits=[[0]])
    assert region.text == "k=été/Ax"
    assert_map_exact(text, region)
    assert [region.offsets[i] for i in range(4)] == [0, 1, 2, 8]  # type: ignore[index]


def test_printf_formats_are_not_hidden_characters() -> None:
    assert regions_of('printf("%4d items, %5f s, %2d%%\\n", n, t, p);', "percent") == []


# --- JSON -------------------------------------------------------------------------


def test_json_escaped_slashes_and_unicode_escapes(rng: random.Random) -> None:
    token = github_style("ghp", rng)
    for slash in ("\\/", "\\u002f", "\\u002F"):
        url = f"https:{slash}{slash}user:{token}@github.com{slash}x"
        text = '{"remote": "' + url + '"}\n'
        (region,) = regions_of(text, "json", keyword_hits=[[text.index("ghp_")]])
        assert region.text == '{"remote": "https://user:' + token + '@github.com/x"}'
        assert_map_exact(text, region)
        start = region.text.index(token)
        assert region.parent_span(start, start + len(token)) == (text.index(token), text.index(token) + len(token))


def test_json_surrogate_pairs_quotes_and_escaped_backslashes() -> None:
    text = '"\\ud83d\\ude00 \\"q\\" \\\\u002f \\u00e9 \\ud800x"'
    (region,) = regions_of(text, "json", keyword_hits=[[0]])
    assert region.text == '"\U0001f600 "q" \\u002f é \ufffdx"'
    assert_map_exact(text, region)


def test_json_escapes_of_token_characters_are_decoded_anywhere(rng: random.Random) -> None:
    token = github_style("ghp", rng)
    text = '{"t": "\\u0067hp_' + token[4:] + '"}'
    (region,) = regions_of(text, "json")
    start = region.text.index(token)
    hidden_start = text.index("\\u0067")
    assert region.parent_span(start, start + len(token)) == (hidden_start, hidden_start + 6 + len(token) - 1)


# --- HTML ---------------------------------------------------------------------------


def test_html_entities_named_decimal_and_hex(rng: random.Random) -> None:
    token = npm_token(rng)
    text = f"<pre>&lt;password&gt;{token}&lt;/password&gt; &amp; &#60;&#x3E; &bogus; &#0;</pre>"
    (region,) = regions_of(text, "html", keyword_hits=[[text.index("password")]])
    assert region.text == f"<pre><password>{token}</password> & <> &bogus; \ufffd</pre>"
    assert_map_exact(text, region)


def test_html_entity_inside_a_token_is_decoded_without_a_keyword(rng: random.Random) -> None:
    token = npm_token(rng)
    for entity in ("&#x6e;", "&#X6E;", "&#110;", "&#0110;"):
        text = f"<p>token: {entity}{token[1:]}</p>"
        (region,) = regions_of(text, "html")
        start = region.text.index(token)
        assert region.parent_span(start, start + len(token)) == (text.index(entity), text.index("</p>"))


def test_prose_entities_without_keywords_are_left_alone() -> None:
    text = "<p>Tom &amp; Jerry&nbsp;&mdash; &lt;b&gt;bold&lt;/b&gt; &#39;quoted&#39;</p>\n" * 50
    assert regions_of(text, "html") == []


@pytest.mark.parametrize("name", ["percent", "json", "html"])
def test_fast_decoding_and_the_offset_map_agree(name: str, rng: random.Random) -> None:
    decoder = decode._CHAR_DECODERS_BY_NAME[name]
    pieces = {
        "percent": ["%2F", "%3a", "%C3%A9", "%E2%82%AC", "%FF", "%41%42", "%zz", "%", "%E2%82"],
        "json": ["\\/", "\\u002f", "\\ud83d\\ude00", "\\ud83d", "\\\\", '\\"', "\\n", "\\u00e9", "\\x"],
        "html": ["&amp;", "&lt;", "&#x6e;", "&#110;", "&bogus;", "&NotEqualTilde;", "&#1114112;", "&#xD800;", "&"],
    }[name]
    for _ in range(200):
        text = "".join(rng.choice(pieces + list("ab c/-_")) for _ in range(rng.randrange(1, 40)))
        decoded = decoder.decode(text, 0, len(text))
        builder = decode._Builder(text, 0)
        for match in decoder.escape.finditer(text):
            parts = decoder.pieces(match) if decoder.pieces else [(match.end(), decoder.chars(match))]
            if all(chars is not None for _, chars in parts):
                builder.copy_to(match.start())
                for end, chars in parts:
                    builder.replace(end, chars)  # type: ignore[arg-type]
        built, _ = builder.finish(len(text))
        assert built == decoded, text
        assert len(decoder.offsets(text, 0, len(text))) == len(decoded) + 1
        region = DecodedRegion(0, len(text), decoded, name, text)
        assert_map_exact(text, region)


# --- base64 ---------------------------------------------------------------------------


@pytest.mark.parametrize("urlsafe", [False, True])
@pytest.mark.parametrize("padded", [True, False])
def test_base64_of_user_and_token_is_decoded_where_it_stands(urlsafe: bool, padded: bool, rng: random.Random) -> None:
    token, encoded = with_anchor(rng, npm_token, lambda t: b64(f"someone:{t}", urlsafe=urlsafe, padded=padded))
    text = f'{{"auths": {{"r.example": {{"auth": "{encoded}"}}}}}}'
    (region,) = regions_of(text, "base64")
    assert region.text == f"someone:{token}"
    assert (region.start, region.end) == (text.index(encoded), text.index(encoded) + len(encoded))
    assert region.offsets is None and region.parent_span(3, 9) == (region.start, region.end)


def test_base64_glued_to_a_prefix_still_decodes(rng: random.Random) -> None:
    token, encoded = with_anchor(rng, npm_token, lambda t: b64(f"deploy:{t}"))
    (region,) = regions_of(f"auth=Basicx{encoded}", "base64")
    assert token in region.text


def test_bare_token_base64_is_always_found(rng: random.Random) -> None:
    makers = [npm_token, lambda r: github_style("ghp", r), lambda r: github_style("gho", r), pypi_token]
    for _ in range(500):
        token = rng.choice(makers)(rng)
        (region,) = regions_of(f"NPM_TOKEN: {b64(token)}\n", "base64")
        assert region.text == token


def test_user_token_base64_is_found_without_context_nearly_always(rng: random.Random) -> None:
    # Found from its anchors alone all but ~0.1% of the time (measured: npm
    # 0.03%, GitHub 0.12%); the rest only where a context rule captured it.
    users = ["user", "admin", "ci-bot", "john.doe", "_json_key", "deploy", "x", "oauth2", "__token__"]
    missed = 0
    for _ in range(4000):
        token = npm_token(rng) if rng.random() < 0.5 else github_style("ghp", rng)
        encoded = b64(f"{rng.choice(users)}{rng.randrange(100)}:{token}")
        missed += not regions_of(f'"v": "{encoded}"', "base64")
    assert missed / 4000 < 0.005


def test_base64_the_anchors_miss_is_decoded_when_a_rule_captured_it(rng: random.Random) -> None:
    while True:
        token = npm_token(rng)
        encoded = b64(f"u:{token}")
        if not any(anchor in encoded for anchor in BASE64_ANCHORS):
            break
    text = f"_auth={encoded}\n"
    assert regions_of(text, "base64") == []
    start = text.index(encoded)
    (region,) = regions_of(text, "base64", hints=[(start, start + len(encoded))])
    assert region.text == f"u:{token}"


def test_short_and_non_text_base64_is_not_a_region() -> None:
    rng = random.Random(5)
    short = b64("Zq:short")  # below MIN_BASE64_RUN
    hashes = [base64.b64encode(rng.randbytes(n)).decode() for n in (20, 32, 48, 64)]
    hexes = [f"{rng.getrandbits(256):064x}", f"{rng.getrandbits(160):040X}"]
    words = [
        "XmlHttpRequestFactoryZebraQuery",
        "org/en-US/docs/Web/JavaScript/Reference/QXYZ",
        "QUERY_XYZ_ZONE_STRING_FACTORY_X",
    ]
    for value in [short, *hashes, *hexes, *words]:
        assert regions_of(f'"v": "{value}"\n', "base64") == [], value


def test_random_base64_costs_little_and_yields_nothing() -> None:
    rng = random.Random(7)
    image = base64.b64encode(rng.randbytes(3 * 1024 * 1024)).decode()
    integrity = "".join(f'"integrity": "sha512-{b64_bytes(rng, 64)}",\n' for _ in range(20000))
    for text in (f"data:image/png;base64,{image}", integrity):
        started = time.process_time()
        assert regions_of(text, "base64") == []
        assert time.process_time() - started < 2.0  # a few MB: well under a second normally


def test_ordinary_text_has_no_regions() -> None:
    rng = random.Random(3)
    words = ["the", "of", "and", "to", "in", "is", "for", "with", "as", "by", "JSON", "XML", "QUERY", "YAML", "Z"]
    prose = " ".join(rng.choice(words) for _ in range(200_000))
    code = "\n".join(
        f"    result_{i} = compute_value(items[{i}], key='name_{i}', flag=True)  # XYZ-{i}Z" for i in range(20_000)
    )
    log = "".join(f"2026-11-20T10:{i % 60:02d}:{i % 60:02d}.123Z [INFO] step {i} ok\n" for i in range(50_000))
    for text in (prose, code, log):
        assert find_encoded_regions(text) == []


def test_utf16_base64_as_in_powershell_encoded_commands(rng: random.Random) -> None:
    token = npm_token(rng)
    encoded = base64.b64encode(f"npm config set //registry.npmjs.org/:_authToken={token}".encode("utf-16-le")).decode()
    (region,) = regions_of(f"powershell -EncodedCommand {encoded}", "base64")
    assert token in region.text


# --- budget --------------------------------------------------------------------------


def test_budget_caps_regions_and_decoded_characters(rng: random.Random) -> None:
    lines = [f'"auth": "{with_anchor(rng, npm_token, lambda t: b64("u:" + t))[1]}"\n' for _ in range(10)]
    text = "".join(lines)
    assert len(find_encoded_regions(text)) == 10
    budget = DecodeBudget(len(text))
    budget.regions = 3
    assert len(find_encoded_regions(text, budget)) == 3 and budget.spent
    budget = DecodeBudget(len(text))
    budget.chars = 100  # room for two "u:" + token (42 characters each)
    assert len(find_encoded_regions(text, budget)) == 2


def test_budget_defaults_scale_with_the_chunk() -> None:
    assert DecodeBudget(1000).chars == 4000
    assert DecodeBudget(100 * 1024 * 1024).chars == decode.MAX_DECODED_CHARS
    assert DecodeBudget(0).spent


def test_long_base64_runs_are_decoded_in_bounded_pieces(rng: random.Random) -> None:
    token = npm_token(rng)
    document = json.dumps({"filler": "".join(rng.choice(string.ascii_letters) for _ in range(200_000)), "t": token})
    text = base64.b64encode(document.encode()).decode()
    regions = regions_of(text, "base64")
    assert regions and all(r.end - r.start <= 2 * decode.MAX_BASE64_RUN + 2 for r in regions)
    assert any(token in r.text for r in regions)

