"""LoRA supervised fine-tuning on chat conversations.

Entry points (import them from their modules; this package imports nothing heavy itself):

- ``trainer.sft.config``: ``TrainingConfig``, ``LoraSettings``, ``check_servable``.
- ``trainer.sft.recipe.train(base_model_path, train, validation, out_dir, config, on_event,
  should_stop) -> TrainResult``: the run, resumable from ``out_dir``.
- ``trainer.sft.evaluate.evaluate_before_after(base_model_path, adapter_dir, test)``:
  exact match and loss of the base model and of the adapter.
"""
