"""``python -m nntui.tui``: the dashboard, without the CLI."""

from nntui.tui.app import run_dashboard

run_dashboard()
