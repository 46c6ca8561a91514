"""The knowledge base: modules cut from pretrained networks, stored with their weights in one folder (a SQLite index
and safetensors files), safe to open from anyone, crash-consistent, queryable by interface.

`KnowledgeBase` is defined in `modulenas.kb.storage` (the folder, the index, weight files, adding networks); the
other parts add its methods: `modulenas.kb.query` (records, queries, loading modules, measurements, versions, adding
networks cut by `modulenas.ingest`), `modulenas.kb.verify` (`verify`, `vacuum`, removal) and `modulenas.kb.display`
(text, tables, HTML and plots). Importing this package, or any of its parts, attaches all of them."""
from . import storage, query, verify, display  # noqa: F401 (each part attaches its methods to KnowledgeBase)
from .storage import *  # noqa: F401,F403
from .query import *  # noqa: F401,F403
from .verify import *  # noqa: F401,F403
from .display import *  # noqa: F401,F403

__all__ = [*storage.__all__, *query.__all__, *verify.__all__, *display.__all__]
