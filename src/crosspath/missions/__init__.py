"""Missions: the job descriptions (JDs) partners want filled, and CrossPath's review."""
