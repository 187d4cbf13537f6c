"""Datasets: the Dataset class, record shapes, readers and writers, validation, provider exports,
statistics, sanitizing."""
