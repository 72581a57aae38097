"""The admin app, on the project's site (``project/web/admin.py``): the app registry
imports this module before models exist, so the site is named, not imported."""

from django.contrib.admin.apps import AdminConfig


class ProjectAdminConfig(AdminConfig):
    """``django.contrib.admin`` with :class:`~project.web.admin.ProjectAdminSite` as
    ``admin.site``."""

    default_site = "project.web.admin.ProjectAdminSite"
