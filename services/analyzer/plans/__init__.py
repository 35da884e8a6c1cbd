"""Action plans on alerts, their webhooks, their follow-up requests and the gap before and after (issue 18)."""
