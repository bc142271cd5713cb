"""A driver process for the resume test: connects to a running Ray and searches; the test
kills it mid-search with SIGKILL. Usage: python resume_driver.py RAY_ADDRESS HOME NAME."""

from __future__ import annotations

import sys

from hpo_fns import SPACE, slow_logged

import eo_ray as eo

if __name__ == "__main__":
    address, home, name = sys.argv[1:4]
    eo.init(address=address, home=home)
    eo.hpo.search(
        slow_logged,
        SPACE,
        10,
        workers=2,
        seed=5,
        name=name,
        early_stopping=None,
        heartbeat_interval=0.0,
        progress=False,
    )
