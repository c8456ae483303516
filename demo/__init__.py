"""`make demo`: every automation against an in-process moto account, dry-run then for real."""
