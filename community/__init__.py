"""People and places: organisations as a tree, members, roles, audit trail."""
