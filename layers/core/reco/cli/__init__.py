"""``reco`` (or ``python -m reco``): import data, train and evaluate models from a shell.

The commands write through the same stores as the API. They talk to the AWS account of the current
credentials (table names from the stack's environment variables, see docs/command-line.md), or with ``--local``
to the local AWS of a running ``make run``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from reco.cli.errors import CommandError, describe_error

LOCAL_ENDPOINT_FILE = Path(".local/aws-endpoint.json")
ENDPOINT_CHECK_SECONDS = 2.0


def use_local_runner() -> None:
    """Point boto3 and the settings at the local AWS that a running ``make run`` wrote down."""
    if not LOCAL_ENDPOINT_FILE.exists():
        raise CommandError(
            "no local runner found: start `make run` in this folder first (it writes .local/aws-endpoint.json)"
        )
    try:
        written = json.loads(LOCAL_ENDPOINT_FILE.read_text())
        pid, environment = int(written["pid"]), dict(written["environment"])
        endpoint = urlsplit(environment["AWS_ENDPOINT_URL"])
    except (ValueError, KeyError, TypeError):
        raise CommandError(
            f"{LOCAL_ENDPOINT_FILE} is not a runner's endpoint file: delete it and start `make run`"
        ) from None
    if not _process_alive(pid):
        raise CommandError(
            f"{LOCAL_ENDPOINT_FILE} is stale: the runner that wrote it (pid {pid}) is gone. Start `make run` again"
        )
    try:
        socket.create_connection((endpoint.hostname, endpoint.port or 80), ENDPOINT_CHECK_SECONDS).close()
    except OSError:
        raise CommandError(
            f"the local runner (pid {pid}) does not answer at {endpoint.geturl()}: restart `make run`"
        ) from None
    os.environ.update(environment)


@contextmanager
def quiet_log() -> Iterator[None]:
    """The commands print what they did; the functions' JSON log shows at RECO_LOG_LEVEL (default: none)."""
    from reco.observability import logger

    previous = logger.log_level
    logger.setLevel(os.environ.get("RECO_LOG_LEVEL", "CRITICAL").upper())
    try:
        yield
    finally:
        logger.setLevel(previous)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reco", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        "--local", action="store_true", help="use the local AWS of a running `make run` (its .local/aws-endpoint.json)"
    )
    parser.add_argument("--tenant", default="demo", help="tenant id (default: demo)")
    commands = parser.add_subparsers(dest="command", required=True)

    ml = commands.add_parser(
        "import-movielens", help="import ML-100K (u.data/u.item) or ML-1M (ratings.dat/movies.dat)"
    )
    ml.add_argument("directory", help="the folder of u.data and u.item (ML-100K) or ratings.dat and movies.dat (ML-1M)")
    ml.add_argument("--keep-timestamps", action="store_true", help="do not shift the ratings' times to end now")

    csv = commands.add_parser("import-csv", help="import interactions (ratings) from a CSV with a header row")
    csv.add_argument("path", help="the CSV file; its first line names the columns")
    csv.add_argument(
        "--user-col", default="user_id", metavar="COLUMN", help="the column of user ids (default: user_id)"
    )
    csv.add_argument(
        "--item-col", default="item_id", metavar="COLUMN", help="the column of item ids (default: item_id)"
    )
    csv.add_argument(
        "--value-col",
        default="rating",
        metavar="COLUMN",
        help="the column of ratings: each event's value (default: rating)",
    )
    csv.add_argument(
        "--time-col",
        default="timestamp",
        metavar="COLUMN",
        help="the column of Unix times in seconds (default: timestamp)",
    )
    csv.add_argument("--delimiter", default=",", help="the character between fields (default: ',')")
    csv.add_argument(
        "--keep-timestamps",
        action="store_true",
        help="store the times as they are (refused if any falls outside the event retention) instead of shifting "
        "them so the newest is now",
    )

    items = commands.add_parser("import-items", help="import an item catalog from a CSV or JSON lines file")
    _item_file_arguments(items)

    demo = commands.add_parser("import-demo", help="import the generated demo catalog, users and events")
    demo.add_argument("--seed", type=int, default=7, help="the generator's seed: same seed, same data (default: 7)")

    train = commands.add_parser("train", help="train MODEL now, in this process, and publish a version")
    train.add_argument("model")
    train.add_argument(
        "--recipe",
        choices=["popularity", "trending", "item_knn", "als", "ease", "session_knn", "sequential_rules", "auto"],
        help="define the model with this recipe first (if it does not exist); auto: tuned, the best recipe kept",
    )

    evaluate = commands.add_parser(
        "evaluate",
        help="offline quality: Recall@K / NDCG@K / coverage on a per-user time split, or HR@K / MRR@K of the next "
        "event in the newest sessions",
    )
    evaluate.add_argument("model", nargs="?", help="a defined model (its recipe, params and event weights)")
    evaluate.add_argument("--k", default="10,20", help="comma-separated cut-offs (default 10,20)")
    evaluate.add_argument("--recipes", help="comma-separated recipes to compare, or 'all' (default: the model's)")
    evaluate.add_argument("--movielens", help="evaluate on a MovieLens folder directly (no import needed)")
    evaluate.add_argument(
        "--protocol",
        choices=["user", "session"],
        default="user",
        help="user (default): each user's newest 20%% of events held out, the rest of the catalog ranked once: "
        "Recall@K, NDCG@K, coverage@K. session: each row (a user's events, an anonymous session's; MovieLens: a "
        "user's ratings >= 4) read as a time-ordered session, the newest 20%% held out whole; after each of their "
        "events the next one is predicted, their items excluded: HR@K, MRR@K",
    )
    evaluate.add_argument(
        "--tune",
        type=float,
        metavar="SECONDS",
        help="add each recipe tuned and auto, searched for up to SECONDS each on the train part's own holdout",
    )
    evaluate.add_argument(
        "--max-predictions",
        type=int,
        metavar="N",
        help="session protocol: evaluate a seeded sample of test sessions with about N predictions (default: all)",
    )
    return parser


def _item_file_arguments(items: argparse.ArgumentParser) -> None:
    items.add_argument(
        "path", help="a .csv (or .tsv) file whose first line names the columns, or a .jsonl file: one object a line"
    )
    items.add_argument("--format", choices=["csv", "jsonl"], help="the file's format (default: from its extension)")
    items.add_argument(
        "--id-col", default="id", metavar="COLUMN", help="the column (JSON: key) of item ids (default: id)"
    )
    items.add_argument(
        "--name-col",
        metavar="COLUMN",
        help="the column stored as the item's `name` property (default: one called name)",
    )
    items.add_argument(
        "--description-col",
        metavar="COLUMN",
        help="the column stored as the `description` property (default: one called description)",
    )
    items.add_argument(
        "--properties",
        metavar="COLUMNS",
        type=_names,
        help="comma-separated columns kept as properties, under their own names (default: every other column)",
    )
    items.add_argument(
        "--numbers",
        metavar="COLUMNS",
        type=_names,
        default=(),
        help="comma-separated columns whose text is a number, e.g. price,stock (CSV cells are text otherwise)",
    )
    items.add_argument(
        "--lists",
        metavar="COLUMNS",
        type=_names,
        default=(),
        help="comma-separated columns whose text is a list of strings, split on --list-separator",
    )
    items.add_argument("--list-separator", default="|", help="what separates a list's values (default: '|')")
    items.add_argument("--delimiter", help="the CSV's field separator (default: ',', a tab for .tsv)")


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.local:
            use_local_runner()
        from reco.cli import commands  # after --local: stores read their settings on first use

        with quiet_log():
            return int(getattr(commands, args.command.replace("-", "_"))(args))
    except KeyboardInterrupt:
        print(f"reco {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # one line that says what to do, never a traceback
        message = describe_error(error)
        if message is None:
            raise
        print(f"reco {args.command}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
