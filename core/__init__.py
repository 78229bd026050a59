"""Shared plumbing that no domain owns (ARCHITECTURE.md §1). Domain apps
may import ``core``; ``core`` imports no domain app."""
