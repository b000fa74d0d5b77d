"""What nntui keeps on disk: runs, saved models, metrics, all written atomically."""
