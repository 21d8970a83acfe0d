"""findsvc: the Find service of the user-management system."""
