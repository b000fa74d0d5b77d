"""How each run status is shown, in the sweep screen's table and `nntui sweep`'s (Rich styles)."""

STATUS_STYLE = {
    "queued": "dim",
    "running": "cyan",
    "completed": "green",
    "stopped": "yellow",
    "diverged": "red",
    "failed": "bold red",
    "interrupted": "yellow",
}
