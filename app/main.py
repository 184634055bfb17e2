"""The ASGI application that uvicorn serves: `app.main:app`."""

import logging

from app.factory import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
app = create_app()
