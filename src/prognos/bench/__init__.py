"""Benchmark commands: each module measures one promise and returns a JSON-able dict."""
