"""Reports of solved models and design-space explorations: utilisation figures, PNG plots, Markdown."""
