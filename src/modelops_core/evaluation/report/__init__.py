"""The self-contained HTML report of an evaluation and its inline SVG charts."""
