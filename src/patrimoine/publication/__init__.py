"""Publication workflow: a referent loads data and asks; the chief data officer publishes."""
