"""Fine-tuning: the FineTuningJob state machine, the provider contract, preflight, polling, jobs
kept as tracking runs."""
