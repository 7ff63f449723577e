"""The Soca Passport sync server and web site."""
