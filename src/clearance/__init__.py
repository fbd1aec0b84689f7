"""clearance: bulk relief for California cannabis convictions under Proposition 64."""

import os

# Polars allocates through jemalloc, which by default keeps freed pages for a while; a run's
# tables are built and dropped in large pieces, so that cache shows up as peak memory. A
# background thread returning dirty pages after 200 ms keeps the peak near what is live, at no
# measurable cost in time (bench/RESULTS.md). Set before Polars is first imported; an explicit
# setting in the environment wins.
os.environ.setdefault(
    "_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:200,muzzy_decay_ms:0"
)

__version__ = "0.1.0"
