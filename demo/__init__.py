"""Demo data: a plausible clinic network loaded by `flask demo load` (`loader`). Not a
business rule: it sits above services/ and views/, uses them, and commits its own batches."""
