"""Protection of personal data: GDPR register, requests, breaches, scanner, anonymisation."""
