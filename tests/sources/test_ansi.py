"""Escape sequences removed from whole logs and from single lines, with the
original column of every remaining character."""

from __future__ import annotations

from scanner.sources.ansi import MappedLine, strip_escape_bytes, strip_escapes

ESC = "\x1b"


def test_every_kind_of_sequence_goes_and_nothing_printable_does() -> None:
    text = (
        f"{ESC}[0m{ESC}[7m{ESC}[1m{ESC}[32m PASS {ESC}[39m{ESC}[22m"  # SGR runs
        f"{ESC}[2K{ESC}[1G"  # erase line, cursor column
        f"{ESC}]8;;https://example.com{ESC}\\link{ESC}]8;;\x07"  # OSC 8 hyperlink, ST and BEL terminated
        f"{ESC}_bk;t=1772445600000\x07"  # Buildkite APC timestamp
        f"{ESC}(B{ESC}[m"  # tput sgr0
        f"{ESC}]unterminated"  # only ESC ] goes
        "\n"
    )
    assert strip_escapes(text) == " PASS linkunterminated\n"
    assert strip_escape_bytes(text.encode()) == b" PASS linkunterminated\n"


def test_jenkins_console_notes_are_removed_whole() -> None:
    text = f"Started by user {ESC}[8mha:////4H+H6gi+RzqRXgbuxDkiDNvJYq3p+mHbAAAAlx+LCAAAA=={ESC}[0madmin\n"
    assert strip_escapes(text) == "Started by user admin\n"
    assert strip_escape_bytes(text.encode()) == b"Started by user admin\n"
    # a log that cannot hold notes is not searched for them: only the codes go
    assert strip_escape_bytes(text.encode(), notes=False).startswith(b"Started by user ha:////")


def test_lines_and_non_ascii_survive() -> None:
    text = f"{ESC}[32m\u2713{ESC}[0m renders\n{ESC}[31m\u2715{ESC}[0m fails\n"
    assert strip_escapes(text) == "\u2713 renders\n\u2715 fails\n"
    assert strip_escape_bytes(text.encode()).decode() == "\u2713 renders\n\u2715 fails\n"


def test_mapped_line_remembers_original_columns() -> None:
    line = f"{ESC}[33mnpm_ab{ESC}[1mcd{ESC}[0m!"
    mapped = MappedLine(line)
    mapped.strip_escapes()
    assert mapped.text == "npm_abcd!"
    assert [mapped.original_column(i, len(line)) for i in range(len(mapped.text) + 1)] == [
        5,
        6,
        7,
        8,
        9,
        10,
        15,
        16,
        21,
        len(line),
    ]
