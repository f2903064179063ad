"""Retention: structured retention rules (duration, starting event, final fate) on datasets
and processing activities, the plan of what is due, its application with a record of each
action, elimination slips (bordereaux d'élimination) waiting for the archives director's visa
(Code du patrimoine R212-14), and sobriety figures."""
