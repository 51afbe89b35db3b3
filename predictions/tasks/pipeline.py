"""Pipeline tasks: routing, batched inference, dual write, publish (issue: pipeline)."""
