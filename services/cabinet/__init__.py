"""Rules of the client cabinet: statistics, documents, requests, orders, forms."""
