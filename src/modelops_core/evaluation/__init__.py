"""Evaluation: Evaluator, metric inputs and specs, results, bootstrap intervals, A/B comparison;
stats/ and report/."""
