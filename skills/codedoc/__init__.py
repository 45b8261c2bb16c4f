"""Almia Dev: code in (a folder, a ZIP, a pasted function), reference docs, a docstring patch
and test skeletons out (issue 17)."""
