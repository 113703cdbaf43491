"""The admin's forms: add a song by uploading its track, edit one, upload many."""

from __future__ import annotations

from django import forms

from . import services
from .models import Song


class SongUploadForm(forms.ModelForm):
    """Add a song by uploading a track.

    The track is catalogued here, through the one upload service, because only a form's
    clean() can put its refusals (too large, not audio, already catalogued) on the form;
    SongAdmin.save_model then only points the admin at the song.
    """

    audio = forms.FileField(help_text="Any format ffmpeg reads: mp3, ogg, opus, flac, wav, m4a...")

    class Meta:
        model = Song
        fields = ["audio", "title", "artist", "album"]
        help_texts = {"title": "Leave empty to take it from the file's tags or name."}

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("audio")
        if not upload or self.errors:
            return cleaned
        if upload.size == 0:
            raise forms.ValidationError({"audio": "The file is empty."})
        try:
            self.result = services.ingest_upload(
                upload,
                title=cleaned.get("title") or None,
                artist=cleaned.get("artist") or None,
                album=cleaned.get("album") or None,
            )
        except services.TrackTooLarge as exc:
            raise forms.ValidationError({"audio": f"This file is {exc}."}) from exc
        except services.AudioDecodeError as exc:
            raise forms.ValidationError({"audio": f"This is not audio jamjar can read: {exc}"}) from exc
        except services.TrackTooLong as exc:
            raise forms.ValidationError({"audio": str(exc)}) from exc
        if not self.result.created:
            raise forms.ValidationError({"audio": self.result.already_catalogued})
        return cleaned


class SongChangeForm(forms.ModelForm):
    class Meta:
        model = Song
        fields = ["title", "artist", "album"]


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class ManyFilesField(forms.Field):
    """Several files from one input; each is checked later, on its own, so one bad file fails alone."""

    widget = MultipleFileInput

    def clean(self, value):
        files = [upload for upload in (value or []) if upload]
        if not files:
            raise forms.ValidationError("Choose at least one file.", code="required")
        return files


class ManyTracksForm(forms.Form):
    files = ManyFilesField(
        label="Tracks",
        help_text="Any format ffmpeg reads; select several at once. Up to 100 files per batch.",
    )
