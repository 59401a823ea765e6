"""Pydantic models shared by every stage (no AWS calls here)."""
