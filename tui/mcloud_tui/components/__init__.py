"""Widgets of the console, split by area: header/cost meter, host panels, jobs table, modals."""
