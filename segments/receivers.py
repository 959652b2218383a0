"""Signal receivers: segments refresh after every finished import."""
