"""The GDPR register of processing activities (Article 30), with its DPIA records."""
