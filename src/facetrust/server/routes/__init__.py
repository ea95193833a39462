"""The API's routes, one module per group; ``create_app`` includes each module's ``router``."""
