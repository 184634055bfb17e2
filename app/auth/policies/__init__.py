"""Access policies: one module per kind of personal data, each stating who may see it and in which view."""
