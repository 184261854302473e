"""Log storage: the engine-agnostic interface (``api``) and its engines."""
