"""Drawing a 28x28 digit as terminal text; shared by the dashboard and `nntui predict`."""
