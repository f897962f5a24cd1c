"""Evaluation harness: question sets (FORMAT.md) run through Assistant.ask, scored, reported."""
