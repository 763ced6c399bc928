"""exclude-paths globs: basenames at any depth, folders covering what is below
them, anchored patterns, ``**``, folder-only patterns."""

from __future__ import annotations

import pytest

from scanner.pathfilter import PathFilter, path_excluded


@pytest.mark.parametrize(
    "pattern,path,excluded",
    [
        # no "/": a file or folder name at any depth
        ("*.min.js", "app.min.js", True),
        ("*.min.js", "static/js/app.min.js", True),
        ("*.min.js", "static/js/app.js", False),
        ("*.min.js", "app.min.js.map", False),
        ("node_modules", "node_modules", True),
        ("node_modules", "node_modules/left-pad/index.js", True),
        ("node_modules", "web/node_modules/left-pad/.npmrc", True),
        ("node_modules", "my_node_modules/x", False),
        ("secret?.txt", "a/secret1.txt", True),
        ("secret?.txt", "a/secret12.txt", False),
        ("[ab].env", "x/a.env", True),
        ("[!ab].env", "x/a.env", False),
        ("[!ab].env", "x/c.env", True),
        # "*" and "?" never cross a "/"
        ("*.txt", "a/b", False),
        ("a*b", "a/b", False),
        # with "/": from the scanned root
        ("tests/fixtures/**", "tests/fixtures/tokens.txt", True),
        ("tests/fixtures/**", "tests/fixtures/deep/er/x.json", True),
        ("tests/fixtures/**", "tests/fixtures", True),
        ("tests/fixtures/**", "src/tests/fixtures/x", False),
        ("tests/fixtures/**", "tests/fixture/x", False),
        ("docs/*.md", "docs/index.md", True),
        ("docs/*.md", "docs/api/index.md", False),
        ("docs/api", "docs/api/index.md", True),
        # a leading "/" only anchors
        ("/build", "build/out.log", True),
        ("/build", "src/build/out.log", False),
        ("build", "src/build/out.log", True),
        ("./build", "build/out.log", True),
        # "**" spans any number of folders, including none
        ("**/fixtures", "fixtures/a", True),
        ("**/fixtures", "x/y/fixtures/a", True),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("a/**/b", "a/x/y/c", False),
        ("**/*.pem", "k/e/y.pem", True),
        ("**", "anything/at/all", True),
        # a trailing "/": folders only (a folder path ends in "/")
        ("dist/", "dist/", True),
        ("dist/", "dist/bundle.js", True),
        ("dist/", "pkg/dist/bundle.js", True),
        ("dist/", "dist", False),
        # escaped glob characters are literal
        (r"\*.txt", "*.txt", True),
        (r"\*.txt", "a.txt", False),
    ],
)
def test_pattern(pattern: str, path: str, excluded: bool) -> None:
    assert path_excluded(path, [pattern]) is excluded


def test_any_pattern_of_several_excludes() -> None:
    patterns = ["*.min.js", "tests/fixtures/**", "vendor"]
    assert path_excluded("vendor/x.py", patterns)
    assert path_excluded("tests/fixtures/a.txt", patterns)
    assert not path_excluded("src/app.py", patterns)


def test_paths_are_normalised() -> None:
    assert path_excluded("./tests/fixtures/a.txt", ["tests/fixtures/**"])
    assert path_excluded("/tests/fixtures/a.txt", ["/tests/fixtures"])
    assert path_excluded("tests\\fixtures\\a.txt", ["tests/fixtures/**"])


def test_no_patterns_exclude_nothing() -> None:
    assert not PathFilter([])
    assert not PathFilter(["", "/"]).excluded("a")
    assert not path_excluded("anything", [])
    compiled = PathFilter(["*.log"])
    assert compiled and compiled.excluded("x/y.log") and not compiled.excluded("x/y.txt")
