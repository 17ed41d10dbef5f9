"""Cursor pagination shared by every listing: newest first, ``after`` an id, ``has_more``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

RowT = TypeVar("RowT")


@dataclass(frozen=True)
class Page(Generic[RowT]):
    rows: list[RowT]
    has_more: bool


def newest_first(
    session: Session,
    table: type[RowT],
    where: list[ColumnElement[bool]],
    after: str | None,
    limit: int,
) -> Page[RowT]:
    """Rows of ``table`` matching ``where``, newest first, strictly older than ``after``."""
    model: Any = table
    conditions = list(where)
    if after is not None:
        anchor = select(model.seq).where(model.id == after).scalar_subquery()
        conditions.append(model.seq < anchor)
    query = select(model).where(*conditions).order_by(model.seq.desc()).limit(limit + 1)
    rows = list(session.scalars(query))
    return Page(rows[:limit], len(rows) > limit)
