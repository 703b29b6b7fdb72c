"""Format readers: turn what arrives (exports, captures, packages) into records the services store."""
