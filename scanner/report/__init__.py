"""Reporters: render a finished ScanResult as a table, JSON, JSON Lines or SARIF."""
