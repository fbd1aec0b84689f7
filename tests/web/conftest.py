"""Fixtures of the web tests (defined in web_site, which tests import by name)."""

from web_site import done_run, no_login_delay, site, template

__all__ = ["done_run", "no_login_delay", "site", "template"]
