"""What both the CLI and the dashboard draw: digit art, activation strips, run statuses, times.

Below `tui/` and `cli/` and above the headless core, so `nntui predict` and `nntui sweep`
draw the same way the dashboard does without importing it.
"""
