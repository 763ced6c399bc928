"""``sprawl hunt``: every copy of one known leaked credential (given as its value
or its sha256), raw or encoded, across every source sprawl reads."""

from __future__ import annotations
