"""The check catalog: check files loaded, validated and evaluated (pure; no boto3)."""
