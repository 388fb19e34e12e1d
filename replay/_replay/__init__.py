"""Replaying recorded histories: the Replayer, the debugger, client-side queries."""
