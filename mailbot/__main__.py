"""`python -m mailbot` = the `mailbot` command."""

from mailbot.cli.main import main

main()
