"""Performance benchmark (issue 8): data set, load runs, query counts."""
