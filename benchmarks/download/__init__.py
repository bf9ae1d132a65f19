"""Download benchmark: eoaccess against rclone, aria2c and curl (run ``python -m benchmarks.download``)."""
