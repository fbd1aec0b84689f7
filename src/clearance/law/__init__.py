"""The statute as rules with citations, and the cited lists they read."""
