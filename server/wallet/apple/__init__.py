"""Apple Wallet: signed .pkpass files, the PassKit web service's rules, APNs pushes."""
