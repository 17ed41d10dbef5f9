"""Fine-tuning: datasets in, LoRA adapters out (and the embedded default base model)."""
