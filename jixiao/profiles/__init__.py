"""Shipped rule profiles (TOML data files). See jixiao.profile for the schema."""
