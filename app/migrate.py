"""Running the Alembic migrations from the application (CLI, tests, demo)."""

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from app.config import Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(settings.migrations_dir))
    return config


def upgrade(settings: Settings, engine: Engine, revision: str = "head") -> None:
    config = alembic_config(settings)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
