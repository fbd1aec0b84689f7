"""clearance: bulk relief for California cannabis convictions under Proposition 64."""

__version__ = "0.1.0"
