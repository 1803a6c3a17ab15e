"""Export to accounting (1C EnterpriseData XML, XLSX): rows, writers, the command, its
log and its jobs. `docs/export.md` describes it."""
