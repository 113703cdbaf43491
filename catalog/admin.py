"""Catalogue admin: placeholder replaced below."""
