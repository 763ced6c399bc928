"""Offline judgements on candidate secrets: checksums, decoders, placeholders."""
