"""Git hooks: what a commit adds (staged.py), the pre-commit check
(precommit.py) and writing plain git hook scripts (install.py)."""
