"""Slack notifier: alarms, AWS events, log errors and opskit reports rendered for people."""
