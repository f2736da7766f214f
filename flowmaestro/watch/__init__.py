"""`flowmaestro watch`: following one execution over Socket.IO, in a terminal or as JSON."""
