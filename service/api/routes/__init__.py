"""One router per resource: comparisons, schedulers, models, health, and the viewer's page."""
