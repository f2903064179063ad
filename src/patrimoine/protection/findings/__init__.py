"""Personal data found in dataset versions: stored scans, decisions, anonymised versions."""
