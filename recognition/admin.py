"""Recognition admin."""
