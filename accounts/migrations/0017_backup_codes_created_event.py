from django.db import migrations, models

# Before this kind, new backup codes were logged as "Authenticator changed" with these details.
OLD = {"kind": "authenticator_changed", "data__type": "backup", "data__regenerated": True}


def relabel_backup_codes_created(apps, schema_editor):
    """Past events read like new ones. One UPDATE: it locks only the few rows it changes."""
    SecurityEvent = apps.get_model("accounts", "SecurityEvent")
    SecurityEvent.objects.using(schema_editor.connection.alias).filter(**OLD).update(
        kind="backup_codes_created"
    )


def label_them_as_before(apps, schema_editor):
    SecurityEvent = apps.get_model("accounts", "SecurityEvent")
    SecurityEvent.objects.using(schema_editor.connection.alias).filter(
        kind="backup_codes_created"
    ).update(kind="authenticator_changed")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0016_usersession_retention_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="securityevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("registered", "Account registered"),
                    ("email_verified", "Email address verified"),
                    ("signed_in", "Signed in"),
                    ("signed_out", "Signed out"),
                    ("sign_in_failed", "Failed sign-in"),
                    ("blocked", "Account blocked"),
                    ("unblocked", "Account unblocked"),
                    ("password_changed", "Password changed"),
                    ("password_reset", "Password reset"),
                    ("password_reset_requested", "Password reset requested"),
                    ("username_reminder", "User name reminder sent"),
                    ("account_checked", "Account status report sent"),
                    ("email_changed", "Email address changed"),
                    ("profile_changed", "Profile changed"),
                    ("session_ended", "Session ended"),
                    ("session_expired", "Signed out after inactivity"),
                    ("authenticator_added", "Authenticator added"),
                    ("authenticator_removed", "Authenticator removed"),
                    ("authenticator_changed", "Authenticator changed"),
                    ("second_factor_failed", "Wrong second-factor code"),
                    ("backup_codes_created", "Backup codes created"),
                    ("backup_code_used", "Backup code used"),
                    ("push_denied", "Push sign-in denied"),
                    ("account_created", "Account created"),
                    ("account_deactivated", "Account deactivated"),
                    ("account_reactivated", "Account reactivated"),
                    ("role_changed", "Role changed"),
                    ("policy_changed", "Company policy changed"),
                    ("password_compromised", "Password marked as compromised"),
                    ("email_change_requested", "Email address change requested"),
                    ("sign_in_reported", "Sign-in reported as not me"),
                    ("reauthenticated", "Identity confirmed again"),
                    ("trusted_browsers_forgotten", "Trusted browsers forgotten"),
                ],
                max_length=40,
                verbose_name="event",
            ),
        ),
        migrations.RunPython(relabel_backup_codes_created, label_them_as_before),
    ]
