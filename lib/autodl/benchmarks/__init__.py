"""NAS-Bench-201: store, API, converter and builder."""
