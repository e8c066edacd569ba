"""Creates the 27 ArtGAN styles (in class-id order) and the three role groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from curation.roles import ROLE_PERMISSIONS
from curation.styles import STYLES


def create_styles(apps, schema_editor):
    Style = apps.get_model("curation", "Style")
    for class_index, (code, name) in enumerate(STYLES):
        Style.objects.update_or_create(code=code, defaults={"class_index": class_index, "name": name})


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, permission_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for permission_name in permission_names:
            app_label, codename = permission_name.split(".")
            permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("curation", "0001_initial"),
        ("classifier", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_styles, migrations.RunPython.noop),
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
