"""Tender screening: a public-procurement dossier (DCE) → key facts with sources, a verdict
per lot against the company's bid criteria, contradictions, a checklist and an outline."""
