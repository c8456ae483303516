"""The `opskit` command line: try the automations from a laptop before deploying them."""
