"""Models of the pathways app."""
