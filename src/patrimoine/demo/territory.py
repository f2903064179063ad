"""The demo territory (placeholder replaced below)."""
