"""Song.peaks: the song's spectral peaks, packed, for verifying candidate matches."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_song_cover")]

    operations = [
        migrations.AddField(
            model_name="song",
            name="peaks",
            field=models.BinaryField(blank=True, default=b"", editable=False),
        ),
    ]
