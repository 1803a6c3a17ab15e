"""Imports of outside files into the books: the price list today (`prices`, read by
`price_file`); each import parses, previews, then applies in one unit of work."""
