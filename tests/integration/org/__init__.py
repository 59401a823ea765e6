"""Organization scale: the Step Functions fan-out over member accounts, its template and its member role."""
