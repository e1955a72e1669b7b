"""Privacy: aliases, the real-name scanner and send guard, presentation mode and de-aliasing of answers."""
