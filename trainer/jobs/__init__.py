"""Fine-tuning jobs: the job store (files, jobs, events, checkpoints) and the worker that runs
queued jobs in a child process, writes their progress, and publishes the adapters."""
