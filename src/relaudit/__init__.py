"""relaudit: a reliability auditor for AWS accounts."""

__version__ = "0.1.0"
