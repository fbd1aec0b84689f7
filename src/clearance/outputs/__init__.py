"""What a run writes: tables, summary, and later filings."""
