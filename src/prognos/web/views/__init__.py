"""View models: what each page shows, asked of the use cases (no SQL, no business rules here).

The fleet page's data come whole from ``service.fleet``; one asset's page and charts are
``asset``, the calendars ``calendar``; ``names`` turns ids into what people read.
"""

from prognos.web.views.names import Names, asset_name

__all__ = ["Names", "asset_name"]
