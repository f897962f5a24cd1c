"""The Gradio chat UI: chat with cited answers, a sources panel, and an orientation view."""
