"""The request's CPTS copied on each member (issue 15: the search by name starts from the CPTS's
members, through the index intake_member_cpts_name, instead of every member of the platform
whose name starts so). Filled in from the requests before it becomes required; a request never
changes CPTS (a transfer makes a new request in the other CPTS)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_in(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":  # one pass, not a subquery per row
        schema_editor.execute(
            "UPDATE intake_householdmember m SET cpts_id = r.cpts_id "
            "FROM intake_request r WHERE r.id = m.request_id"
        )
        # The new foreign key's deferred checks run now, or the ALTER TABLE that follows is
        # refused ("pending trigger events").
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return
    Member = apps.get_model("intake", "HouseholdMember")
    Request = apps.get_model("intake", "Request")
    Member.objects.update(
        cpts_id=Subquery(Request.objects.filter(pk=OuterRef("request_id")).values("cpts_id")[:1])
    )


class Migration(migrations.Migration):

    dependencies = [
        ("intake", "0019_queue_order_indexes"),
        ("territory", "0003_commune_search_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="householdmember",
            name="cpts",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="territory.cpts",
            ),
        ),
        migrations.RunPython(fill_in, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="householdmember",
            name="cpts",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="territory.cpts",
            ),
        ),
        migrations.AddIndex(
            model_name="householdmember",
            index=models.Index(
                fields=["cpts", "normalised_name"],
                name="intake_member_cpts_name",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ),
    ]
