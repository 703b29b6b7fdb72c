"""Web capture: headless Chromium, WARC/WACZ writing and media fetching."""
