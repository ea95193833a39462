"""facetrust as a service: REST API, web page, durable job store."""
