"""Reporting: the organiser dashboard's rollups and figures (issue #14 §3).

Reads other apps' tables and sits above them, like ``api``: no domain app
imports it.
"""
