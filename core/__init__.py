"""The bottom layer: domain errors and the current actor. Every other layer
(models, security, services, views, app) may import it; it imports none of them."""
