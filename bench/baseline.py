"""BENCH ONLY, never deployed: the baseline that issue 13 measures Casusregister against.

The plainest FastAPI + SQLModel service doing what fastapi/full-stack-fastapi-template's item endpoints
do, built the way that template builds them: sync endpoints, a session per request from a generator
dependency, the engine's default pool, an HS256 JWT decoded with PyJWT and the user loaded by its id.
`POST /items/` inserts one row (commit, then refresh, as there); `GET /items/` lists ten of the user's
rows (the template also counts them; this one does not, so the baseline is the plainer list).

Run by the bench as `uvicorn bench.baseline:app` under the same settings as the application, against the
same PostgreSQL (a database of its own, BASELINE_DATABASE_URL; the HS256 secret in BASELINE_SECRET).
"""

import os
import uuid
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, create_engine, select


class BaselineModel(SQLModel, registry=registry()):
    """Tables of their own metadata, apart from the application's."""


class User(BaselineModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=255)
    is_active: bool = True
    full_name: str | None = Field(default=None, max_length=255)
    hashed_password: str


class ItemCreate(SQLModel):
    title: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=255)


class Item(BaselineModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    title: str = Field(max_length=255)
    description: str | None = Field(default=None, max_length=255)
    owner_id: uuid.UUID = Field(foreign_key="user.id", nullable=False, ondelete="CASCADE", index=True)


class ItemPublic(SQLModel):
    id: uuid.UUID
    title: str
    description: str | None
    owner_id: uuid.UUID


class ItemsPublic(SQLModel):
    data: list[ItemPublic]


def create_tables(url: str) -> None:
    engine = create_engine(url)
    BaselineModel.metadata.create_all(engine)
    engine.dispose()


app = FastAPI()


def bind(url: str, key: str) -> None:
    """The database and the token secret: from the environment when uvicorn imports this module, from
    bench.inprocess when it calls the app in its own process."""
    global engine, secret
    engine, secret = create_engine(url), key


if "BASELINE_DATABASE_URL" in os.environ:  # absent when the bench imports this module to create the tables
    bind(os.environ["BASELINE_DATABASE_URL"], os.environ["BASELINE_SECRET"])


def get_db():
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]
TokenDep = Annotated[str, Depends(OAuth2PasswordBearer(tokenUrl="/login/access-token"))]


def get_current_user(session: SessionDep, token: TokenDep) -> User:
    try:
        payload = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=403, detail="Could not validate credentials") from None
    user = session.get(User, uuid.UUID(payload["sub"]))
    if user is None or not user.is_active:
        raise HTTPException(status_code=404, detail="User not found")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


@app.get("/ready")
def ready() -> dict:
    return {"status": "ok"}


@app.post("/items/", response_model=ItemPublic)
def create_item(session: SessionDep, current_user: CurrentUser, item_in: ItemCreate):
    item = Item.model_validate(item_in, update={"owner_id": current_user.id})
    session.add(item)
    session.commit()
    session.refresh(item)
    return item


@app.get("/items/", response_model=ItemsPublic)
def read_items(session: SessionDep, current_user: CurrentUser, skip: int = 0, limit: int = 10):
    statement = select(Item).where(Item.owner_id == current_user.id).offset(skip).limit(limit)
    return ItemsPublic(data=session.exec(statement).all())
