"""The Textual dashboard: ``nntui`` with no command. See `nntui.tui.app`."""
