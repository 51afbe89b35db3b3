"""Training tasks: weekly retrain with the promotion rule (issue: models)."""
