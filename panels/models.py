"""Models of the panels app."""
