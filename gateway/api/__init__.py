"""Gateway HTTP plumbing shared by the routers: dependencies and non-OpenAI routes."""
