"""Layer 6: the authors' tools: chapter template/run/new, pre-commit hooks."""
