"""The demo clinic: `clinicflow demo` fills an empty database with a believable clinic to click through."""
