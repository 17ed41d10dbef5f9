"""The Files API and the fine-tuning Jobs API (OpenAI's shapes, plus loragate's LoRA fields)."""
