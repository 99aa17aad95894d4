"""The Streamlit dashboard (``sentimon dashboard``): reads Redis only through ``sentimon.store.query``.

``app.py`` is the entry point; ``snapshot`` loads the data of one refresh with batched
queries, ``frames`` and ``figures`` turn it into tables and charts, ``panels`` render them.
"""
