"""Standards: Table Schema / SCDL validation, the data-catalogue schema, quality, DCAT-AP, CKAN."""
