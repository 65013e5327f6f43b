"""Fine-tuning the agent: the right calls per question (oracle), verified traces, LoRA training."""
