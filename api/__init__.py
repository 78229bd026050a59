"""The HTTP face of Fengling: Litestar app, auth, guards, errors, routes."""
