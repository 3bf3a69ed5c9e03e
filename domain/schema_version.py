"""The schema revision this code needs; a test keeps it equal to the newest migration's revision."""

HEAD_REVISION = "0015"
