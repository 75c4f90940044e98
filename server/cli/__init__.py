"""Command-line commands; each module registers its sub-commands on the parser."""
