"""Flask-AppBuilder's English msgids that Uchet translates itself.

This module is never imported. `pybabel extract` reads it (see babel.cfg) so
that these msgids stay in translations/messages.pot and `pybabel update`
keeps their Russian translations instead of marking them obsolete.

FAB's own Russian catalogue dates from 2015: it lacks the strings below, leaves
them empty or fuzzy, or translates them wrongly. Our catalogue is merged after
FAB's, so ours win. tests/test_translations.py checks that every msgid here is
still one of FAB's (an upgrade of FAB that renames one makes it fail).
"""


def _(message: str) -> str:
    return message


# Missing, empty or fuzzy in FAB's ru catalogue.
MISSING = (
    # list/show/edit screens (templates/appbuilder/general/lib.html, model/*.html)
    _("Add"),
    _("Edit"),
    _("Show"),
    _("Delete"),
    _("Are you sure you want to delete this item?"),
    _("Detail"),
    _("Order by"),
    # search filters (models/sqla/filters.py, models/generic/filters.py)
    _("Contains (insensitive)"),
    _("Start with"),
    _("In"),
    _("Not In"),
    # form widgets and validators (fieldwidgets.py, fields.py, validators.py)
    _("Select Value"),
    _("Not a valid choice"),
    _(
        "Must have at least two capital letters, one special character, two digits, "
        "three lower case letters and a minimal length of 10."
    ),
    # CRUD messages (baseviews.py)
    _("Database Error"),
    # users, roles, groups (security/views.py, security/forms.py, security/manager.py)
    _("The user's password for authentication"),
    _("Edit User Information"),
    _("User information changed"),
    _("Either select a role or a group"),
    _("User(s) exists in the role, cannot delete"),
    _("User(s) exists in the group, cannot delete"),
    _("Groups"),
    _(
        "The user group on the application, this will associate with a list of roles "
        "associated with the group"
    ),
    _("List Groups"),
    _("Show Group"),
    _("Add Group"),
    _("Edit Group"),
    # login with OAuth / SAML providers (general/security/login_*.html)
    _("Sign In with "),
    _("Sign in using:"),
)

# Present in FAB's ru catalogue, but wrong, misspelt or not in Uchet's terms.
CORRECTED = (
    _("Added Row"),
    _("Changed Row"),
    _("Deleted Row"),
    _("Associated data exists, please delete them first"),
    _("User confirmation needed"),
    _("Edit record"),
    _("Edit User"),
    _("Page size"),
    _("Ends with"),
    _("Relation"),
    _("No Relation"),
    _("Relation as Many"),
    _("Profile"),
    _("Username"),
    _("Email"),
    _("Invalid login. Please try again."),
    _("Please rewrite the password to confirm"),
    _("Please use a good password policy, this application does not check this for you"),
    _("Reset Password Form"),
    _("Reset my password"),
    _("Reset Password"),
    _("Password Changed"),
    _("Failed login count"),
    _("Personal Info"),
    _("Audit Info"),
    _("Write the user first name or names"),
    _("Write the user last name"),
    _("The user role on the application, this will associate with a list of permissions"),
    _("The user's email, this will also be used for OID auth"),
    _("Username valid for authentication on DB or LDAP, unused for OID auth"),
)
