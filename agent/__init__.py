"""The agent: LLM backends, tools, the loop, answers with verified citations, eval, and the CLI."""
