"""Wallet passes: what a pass says (`content`), Apple's .pkpass and push, Google Wallet."""
