"""Platform-free use cases. Every door (mail, chat, console, scheduler) calls these."""
