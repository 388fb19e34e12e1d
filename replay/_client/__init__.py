"""The client: connecting to a store, starting runs, handles."""
