"""County policy: the schema and the shipped presets."""
