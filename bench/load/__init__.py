"""The load test: a locust scenario and the runner behind `make load`."""
