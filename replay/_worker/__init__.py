"""The worker: polling, the sticky cache, group commit and the activity pool."""
