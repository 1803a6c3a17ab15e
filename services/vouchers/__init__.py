"""Rules of vouchers: headers, lines, who pays and at what price, totals."""
