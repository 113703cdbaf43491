"""Recognition: where each question came from (file name, client address, user)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('recognition', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='recognition',
            name='client_address',
            field=models.CharField(blank=True, help_text="The client's address (API and browser), as the server saw it.", max_length=64),
        ),
        migrations.AddField(
            model_name='recognition',
            name='file_name',
            field=models.CharField(blank=True, help_text='The file or upload recognised, if any.', max_length=255),
        ),
        migrations.AddField(
            model_name='recognition',
            name='user',
            field=models.ForeignKey(blank=True, help_text='The signed-in user who asked, if any.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
    ]
