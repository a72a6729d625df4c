"""Reads of on-site domain data, each owning its queries."""
