"""Reading a version's rows for someone: the one path (service.py) and the words readers ask in
(language.py)."""
