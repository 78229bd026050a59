from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T12:50:10:486181"
VERSION = "1.38.0"
DESCRIPTION = "organisation paths for existing nodes"

# Ten digits per id, root first, no separator (community/tree_paths.py,
# written out here so this migration keeps meaning what it meant when it
# landed). Its own migration: Piccolo runs a migration's raw steps before
# its column changes, and the column comes from the migration before.
SEGMENT_DIGITS = 10


def _paths(parents):
    """Every node's path, from the parent of each node."""
    paths = {}

    def path_of(node):
        chain = []
        while node is not None and node not in paths:
            chain.append(node)
            node = parents[node]
        prefix = paths[node] if node is not None else ""
        for step in reversed(chain):
            prefix += f"{step:0{SEGMENT_DIGITS}d}"
            paths[step] = prefix

    for node in parents:
        path_of(node)
    return paths


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="community", description=DESCRIPTION
    )

    async def fill_paths():
        """Nodes that exist already get their paths: read once, written row
        by row (a tree of six levels has thousands of nodes, not millions)."""
        from community.tables import Organisation as table

        rows = await table.raw("SELECT id, parent FROM community_organisation").run()
        parents = {int(row["id"]): (int(row["parent"]) if row["parent"] is not None else None) for row in rows}
        for node, path in _paths(parents).items():
            await table.raw("UPDATE community_organisation SET path = {} WHERE id = {}", path, node).run()

    manager.add_raw(fill_paths)

    return manager
