"""End-to-end runs of mailbot as it is shipped or deployed, outside the source tree."""
