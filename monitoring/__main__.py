"""`python -m monitoring` (make monitoring): writes the generated rules and dashboard."""

from monitoring.generated import write

write()
