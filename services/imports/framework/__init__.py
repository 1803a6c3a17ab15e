"""One framework for every import: an import is a declaration (`spec.ImportSpec`: target,
columns with Russian headers and aliases, per-row checks through the same services
as the screens, the natural key, the right); `reader` reads XLSX/CSV into rows within
size bounds, `engine` previews (everything, then rolled back) or commits all or
nothing and logs the run, `jobs` runs either on Redis (RQ) or in-process."""
