"""All web pages, wired into the app in one place."""

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from app.web import actions, docs, login, meetings
from app.web.session import PREFIX, SessionCookieMiddleware

STATIC = f"{PREFIX}/static"


def install(app: FastAPI) -> None:
    for module in (login, meetings, actions, docs):
        app.include_router(module.router, include_in_schema=False)
    app.mount(STATIC, StaticFiles(packages=[("app.web", "static")]), name="web-static")
    docs.mount_assets(app)

    @app.get(PREFIX, include_in_schema=False)
    @app.get(PREFIX + "/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/vergaderingen", status_code=303)

    app.add_middleware(SessionCookieMiddleware)
