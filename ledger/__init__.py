"""Fengling's double-entry points ledger.

It knows accounts, entries, postings, holds and the hash chain, and nothing
of volunteers, shops or campaigns: callers give it account codes and opaque
``owner_ref`` / ``scope_ref`` / ``cause_ref`` strings.
"""
