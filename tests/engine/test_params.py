"""FingerprintParams: validation, immutability, and a version that follows the hash-shaping fields."""

from __future__ import annotations

import dataclasses

import pytest

from recognition.engine.params import QUERY_ONLY_FIELDS, FingerprintParams

# One valid change per field that shapes the catalogue's hashes.
SHAPING_CHANGES = {
    "sample_rate_hz": 16000,
    "window": 512,
    "hop": 64,
    "min_freq_hz": 300.0,
    "max_freq_hz": 3500.0,
    "peak_freq_radius_bins": 8,
    "peak_time_radius_frames": 5,
    "amplitude_floor_db": -60.0,
    "peaks_per_s": 20.0,
    "density_block_frames": 12,
    "fan_out": 5,
    "target_dt_min_frames": 2,
    "target_dt_max_frames": 50,
    "target_df_max_bins": 64,
}
QUERY_ONLY_CHANGES = {"query_peaks_per_s": 60.0, "query_fan_out": 16, "fingerprint_limit_s": 30.0}


def test_every_field_is_either_hash_shaping_or_query_only():
    names = {f.name for f in dataclasses.fields(FingerprintParams)}
    assert set(SHAPING_CHANGES) | set(QUERY_ONLY_CHANGES) == names
    assert set(QUERY_ONLY_CHANGES) == QUERY_ONLY_FIELDS


def test_version_is_stable_for_equal_params():
    assert FingerprintParams().version == FingerprintParams().version
    assert FingerprintParams().version.startswith("h1-")


@pytest.mark.parametrize(("field", "value"), sorted(SHAPING_CHANGES.items()))
def test_version_changes_with_a_hash_shaping_field(field, value):
    base = FingerprintParams()
    changed = base.replace(**{field: value})
    assert getattr(changed, field) == value
    assert changed.version != base.version


@pytest.mark.parametrize(("field", "value"), sorted(QUERY_ONLY_CHANGES.items()))
def test_version_ignores_query_only_field(field, value):
    base = FingerprintParams()
    changed = base.replace(**{field: value})
    assert changed != base
    assert changed.version == base.version


def test_params_are_frozen():
    params = FingerprintParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.hop = 64  # type: ignore[misc]


def test_replace_returns_a_new_object_and_leaves_the_original():
    params = FingerprintParams()
    changed = params.replace(fan_out=6)
    assert changed.fan_out == 6
    assert params.fan_out == FingerprintParams().fan_out


def test_frames_per_s_is_rate_over_hop():
    assert FingerprintParams(sample_rate_hz=8000, hop=128).frames_per_s == 62.5


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sample_rate_hz": 2000, "max_freq_hz": 900.0}, "sample_rate_hz must be at least 4000"),
        ({"sample_rate_hz": 0}, "sample_rate_hz must be at least 4000"),
        ({"window": 1000}, "window must be a power of two"),
        ({"window": 0}, "window must be a power of two"),
        ({"hop": 0}, "hop must be in 1..window"),
        ({"hop": 2048}, "hop must be in 1..window"),
        ({"min_freq_hz": 4000.0}, "min_freq_hz < max_freq_hz"),
        ({"max_freq_hz": 5000.0}, "max_freq_hz <= sample_rate_hz / 2"),
        ({"min_freq_hz": -1.0}, "0 <= min_freq_hz"),
        ({"window": 2048}, "hash layout holds"),
        ({"max_freq_hz": 4000.0}, "max_freq_hz falls in bin 512"),
        ({"peak_freq_radius_bins": -1}, "peak_freq_radius_bins and peak_time_radius_frames must be >= 0"),
        ({"peak_time_radius_frames": -1}, "peak_freq_radius_bins and peak_time_radius_frames must be >= 0"),
        ({"density_block_frames": 0}, "density_block_frames must be at least 1"),
        ({"target_df_max_bins": -1}, "target_df_max_bins must be >= 0"),
        ({"target_dt_min_frames": 0}, "1 <= target_dt_min_frames"),
        (
            {"target_dt_min_frames": 10, "target_dt_max_frames": 9},
            "target_dt_min_frames <= target_dt_max_frames",
        ),
        ({"target_dt_max_frames": 64}, "target_dt_max_frames <= 63"),
        ({"fan_out": 0}, "need 1 <= fan_out <= query_fan_out"),
        ({"fan_out": 13}, "need 1 <= fan_out <= query_fan_out"),
        ({"peaks_per_s": 0.0}, "need 0 < peaks_per_s <= query_peaks_per_s"),
        ({"query_peaks_per_s": 10.0}, "need 0 < peaks_per_s <= query_peaks_per_s"),
        ({"fingerprint_limit_s": 0.0}, "fingerprint_limit_s must be positive or None"),
    ],
)
def test_invalid_value_raises_value_error_naming_the_problem(changes, message):
    with pytest.raises(ValueError, match="invalid fingerprint parameters") as raised:
        FingerprintParams(**changes)
    assert message in str(raised.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValueError) as raised:
        FingerprintParams(hop=0, fan_out=0, fingerprint_limit_s=-5.0)
    text = str(raised.value)
    assert "hop must be in 1..window" in text
    assert "fan_out" in text
    assert "fingerprint_limit_s" in text


def test_highest_bin_that_fits_the_hash_is_accepted():
    # At 8 kHz with a 1024 window a bin is 7.8125 Hz: 3996 Hz rounds to bin 511, 3997 Hz to 512.
    assert FingerprintParams(max_freq_hz=3996.0).max_freq_hz == 3996.0
    with pytest.raises(ValueError, match="bin 512"):
        FingerprintParams(max_freq_hz=3997.0)
