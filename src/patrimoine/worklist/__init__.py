"""What waits for each person in the back-office (the to-do list)."""
