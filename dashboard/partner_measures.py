"""Measures drawn from the pathways and panels apps (resettlement pathways, Checkpoint, panel actions)."""

MEASURES = []
