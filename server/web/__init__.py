"""HTTP routes and rendering. Domain modules never import from here."""
