"""The engine core: deterministic loop, workflow instance, commands, replay matching.

Imports nothing above it (no worker, client, replayer or CLI); a test pins that.
"""
