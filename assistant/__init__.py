"""The Stepping Stones assistant: cited answers from the corpus (library API: assistant.core)."""
