"""Pure policy decisions (no database, no clock, no I/O). Filled in below."""
