"""Plain data, sessions and layout: imports neither torch nor Qt."""
