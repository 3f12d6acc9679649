"""View models: what each page shows, asked of the use cases (no SQL, no business rules here).

The fleet page's data come whole from ``service.fleet``; one asset's page and charts are
``asset``, the calendars ``calendar``.
"""
