"""Fault suite: crashes, outages, broker resets and hostile input against the real stack."""
