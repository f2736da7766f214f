"""`flowmaestro dev`: the supervisor that runs the whole system on one machine."""
