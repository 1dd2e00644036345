"""The Slack face of Tiketti: tickets live as threads in one channel, agents work them there.

`ticket_blocks` renders the handlers' snapshots as Block Kit (pure, network-free);
`limits` keeps every user-written text escaped and within Slack's sizes.
"""
