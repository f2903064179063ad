"""In-application notifications of the back-office, and each person's choice of e-mail."""
