"""Export plug-ins: ACLED CSV, GeoJSON, BagIt packages, trusted timestamps."""
