"""Rights catalogue, effective rights, scope filter and the custom security manager."""
