"""Pure policy decisions: plain data in, an outcome with its reasons out. No database, no clock, no I/O."""
