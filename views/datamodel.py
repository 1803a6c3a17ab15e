"""FAB's SQLAlchemy interface with declared eager loading for list pages."""

from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy.orm import selectinload


class UchetInterface(SQLAInterface):
    """SQLAInterface that loads the named relationships with one extra query each
    (selectin), instead of one query per row when the list renders them."""

    def __init__(self, obj, session=None, eager: tuple[str, ...] = ()):
        super().__init__(obj, session=session)
        self.eager = tuple(eager)

    def apply_all(self, query, *args, **kwargs):
        """Return FAB's filtered, ordered, paginated query with the eager loads added."""
        query = super().apply_all(query, *args, **kwargs)
        if self.eager:
            query = query.options(*(selectinload(getattr(self.obj, rel)) for rel in self.eager))
        return query
