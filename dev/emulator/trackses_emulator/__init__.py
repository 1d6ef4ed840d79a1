"""trackses local AWS emulator: moto server with SNS patched to behave like real SNS
towards HTTP(S) subscribers. Start with `PYTHONPATH=dev/emulator .venv/bin/python -m trackses_emulator`."""
