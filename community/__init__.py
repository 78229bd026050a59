"""People and places: organisations as a tree, members and their
invitations, roles and posts, volunteer teams, the CSV member import, access
rules and the audit trail."""
