"""``python -m supplychain``: the command line."""

from supplychain.cli import main

if __name__ == "__main__":
    main()
