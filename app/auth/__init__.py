"""Identity, access decisions and the audit trail: the only place that loads sensitive objects."""
