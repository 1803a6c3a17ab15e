"""Extension singletons, bound to an app in `create_app`."""

from flask_appbuilder import AppBuilder
from flask_appbuilder.models.sqla import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate

# One declarative base for FAB's security tables and ours, so Alembic sees one
# metadata and `db.session` serves both.
db = SQLA(model_class=Model)
migrate = Migrate(compare_type=True, render_as_batch=True)
appbuilder = AppBuilder()
