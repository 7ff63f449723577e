"""Google Wallet: the service account, signed JWTs, pass objects and the Wallet REST API."""
