// Implemented in the pipeline commit series.
