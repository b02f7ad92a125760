//! Pure JSON algorithms of the API server (patches, selectors, schemas, OpenAPI). OWNER: helper "apiserver-algo".
