"""Extension singletons, bound to an app in `create_app`."""

from flask_appbuilder.models.sqla import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

# One declarative base for FAB's security tables and ours, so Alembic sees one
# metadata and `db.session` serves both.
db = SQLA(model_class=Model)
migrate = Migrate(compare_type=True, render_as_batch=True)
# Every HTML form POST needs a token; FAB exempts its API blueprints, which
# views.base protects for cookie sessions (see UchetModelRestApi).
csrf = CSRFProtect()
