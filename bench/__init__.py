"""`make bench`: findsvc against a naive reference and the transport ceiling, side by side."""
