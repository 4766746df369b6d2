"""``python -m supplychain``: the command line."""

try:
    from supplychain.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line is still importing: stop quietly, as a command does
    raise SystemExit(130) from None

if __name__ == "__main__":
    main()
