"""``sprawl sweep``: incremental, resumable scans of many git repositories
(folders of clones, listed paths and mirrored remotes) that remember what
they scanned in a SQLite state database and fan out locally or to Dask.
"""

from __future__ import annotations
