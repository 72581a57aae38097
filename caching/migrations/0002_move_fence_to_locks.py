"""The fence table moved to the ``locks`` app: copy the fences over, then drop this one.

Copying keeps every lock's highest fence, so a holder paused across the upgrade is still
refused at its write.
"""

from typing import Any

from django.db import migrations


def copy_fences(apps: Any, schema_editor: Any) -> None:
    old = apps.get_model("caching", "Fence")
    new = apps.get_model("locks", "Fence")
    for fence in old.objects.using(schema_editor.connection.alias).all():
        new.objects.using(schema_editor.connection.alias).update_or_create(
            name=fence.name, defaults={"value": fence.value}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("caching", "0001_initial"),
        ("locks", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_fences, migrations.RunPython.noop),
        migrations.DeleteModel(name="Fence"),
    ]
