"""GridReach."""
