"""Outbound alert webhooks: Standard Webhooks signing, target vetting and delivery."""
