"""The Gradio app (filled in by the UI issue)."""
