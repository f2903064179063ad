"""The public open-data portal: what visitors may see, the catalog, usage counters."""
