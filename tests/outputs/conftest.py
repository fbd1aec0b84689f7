"""Fixtures of the filings tests (defined in filings_fixtures, which tests import by name)."""

from filings_fixtures import convictions, filings, packet_subject, run_dir

__all__ = ["convictions", "filings", "packet_subject", "run_dir"]
