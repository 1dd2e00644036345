"""Discord adapter: tickets as threads in a forum or text channel, buttons, a Reply modal, /ticket, DM intake."""
