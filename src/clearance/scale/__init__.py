"""Runs beyond one county in memory: every county at once, inputs larger than memory, Spark.

A decision depends only on one person's history, the policy and the as-of date, so every way
of scaling here partitions the record by person and decides each part with the same engine
(`clearance.engine.decide`); the parts' outputs put back in order are the bytes a single run
writes. Nothing here holds a rule of the law.
"""
