"""Verbatim analysis: survey answers in, themes, sentiment, trends and improvement axes out."""
