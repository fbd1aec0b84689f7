"""The review workspace: `clearance serve` (FastAPI + Jinja2 + HTMX, no front-end build).

`create_app` is imported lazily so that `clearance.web.cli` (loaded by every `clearance`
command) does not pull in the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clearance.web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from clearance.web.app import create_app

        return create_app
    raise AttributeError(name)
