"""Household records beyond storage: the rules for submitting and correcting, review, import."""
