"""The domain core: plain Python, no frameworks, no I/O."""
