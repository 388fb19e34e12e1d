"""Runnable examples shown in the README."""
