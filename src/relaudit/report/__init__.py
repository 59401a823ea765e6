"""Reports people read: the terminal view, the self-contained HTML report, OCSF events and the trend."""
