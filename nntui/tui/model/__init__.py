"""The dashboard's state and the look-inside computations: plain Python, no widgets."""
