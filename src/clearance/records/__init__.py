"""Reading inputs (the DOJ bulk file) into the canonical record."""
