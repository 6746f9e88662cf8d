"""The onboarding/offboarding assistant (see app.py)."""
