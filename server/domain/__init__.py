"""Domain services: plain functions over a session that flush and never commit."""
