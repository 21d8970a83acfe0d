"""The server's runtime: the call lanes (a thread pool and a cap per kind of call) and the
closing gate that ends a drain. They may import `config`, `contract` and
`entrypoints.wrap_once`; never the middleware, the servicer or an adapter."""
