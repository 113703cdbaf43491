"""Song.cover: the thumbnail of a track's embedded picture."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_compressed_fingerprints")]

    operations = [
        migrations.AddField(
            model_name="song",
            name="cover",
            field=models.FileField(
                blank=True,
                help_text="Thumbnail (JPEG) of the picture embedded in the file, if any.",
                upload_to="covers/",
            ),
        ),
    ]
