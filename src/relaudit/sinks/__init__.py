"""Where findings go: Security Hub, DynamoDB, and local output for the CLI."""
