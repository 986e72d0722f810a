"""The stages of a step, one module each, in the order they run:

extract    the step's rows of its source (incremental start, --limit, where:)
transform  map, normalize, validate, dedupe -> Transformed
resolve    reference fields through the id map -> Resolved
plan       new, changed or unchanged; which request each goes out by -> Plan
deliver    sending the plan (or, in a dry run, saying what would be sent) -> Delivered
"""
