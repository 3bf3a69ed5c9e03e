"""The Slack transport: a Bolt app that turns slash commands, buttons and modals into commands and
renders their replies as Block Kit."""
