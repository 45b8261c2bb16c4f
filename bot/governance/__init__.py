"""Governance: policy, roles and directory, data protection (DLP), quotas, audit chain, encryption."""
