"""``python -m reco``: the command line (see reco.cli)."""

from reco.cli import main

raise SystemExit(main())
